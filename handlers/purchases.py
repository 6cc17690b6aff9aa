"""My purchases: the tickets a buyer paid for, the barcode again, and "the ticket didn't work" (a dispute, which
freezes the seller's payout until an admin decides); the seller's side of a dispute."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.markdown import html_decoration as hd

from bot.i18n import translate
from bot.notifier import Notifier
from bot.settings import Settings
from db.models import DisputeStatus, OrderStatus, PayoutStatus, User
from db.repo import Repo
from db.repositories.orders import Purchase
from db.repositories.payouts import DisputeCase
from handlers.buy import PurchaseCD
from handlers.callback_ids import RowId
from handlers.long_text import fit_blocks
from handlers.payments import send_ticket, tell_admins
from handlers.ticket_text import amount_text, event_line
from services import payouts
from services.clock import Clock
from services.crypto import Secrets
from services.errors import DomainError
from services.storage import PhotoStorage

router = Router(name=__name__)

LIST_LIMIT = 10


class DisputeCD(CallbackData, prefix="disp"):
    action: str  # reply (the seller adds their words)
    id: RowId  # dispute id


class DisputeInput(StatesGroup):
    buyer_words = State()
    seller_words = State()


def _status(purchase: Purchase) -> str:
    if purchase.order.status == OrderStatus.REFUNDED:
        return _("purchases-status-refunded")
    if purchase.dispute is not None and purchase.dispute.status == DisputeStatus.OPEN:
        return _("purchases-status-disputed")
    if purchase.payout is not None and purchase.payout.status == PayoutStatus.HELD:
        return _("purchases-status-protected")
    return _("purchases-status-done")


def _render(purchases: list[Purchase], user: User, now_ok: set[int]) -> tuple[str, InlineKeyboardMarkup]:
    if not purchases:
        return _("purchases-empty"), InlineKeyboardMarkup(inline_keyboard=[])
    blocks = [
        _("purchases-line").format(
            number=number,
            event=hd.quote(event_line(purchase.ticket, user.language)),
            paid=amount_text(purchase.order.amount, purchase.order.currency, user.language),
            status=_status(purchase),
        )
        for number, purchase in enumerate(purchases, start=1)
    ]
    text, shown = fit_blocks(_("purchases-title"), blocks)
    rows: list[list[InlineKeyboardButton]] = []
    for number, purchase in enumerate(purchases[:shown], start=1):
        order = purchase.order
        row = []
        if order.status == OrderStatus.PAID:
            row.append(_button(_("purchases-show").format(number=number), PurchaseCD(action="show", id=order.id)))
        if order.id in now_ok:
            row.append(_button(_("purchases-dispute-short").format(number=number),
                               PurchaseCD(action="dispute", id=order.id)))  # fmt: skip
        if row:
            rows.append(row)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


async def _disputable(repo: Repo, clock: Clock, user: User, purchases: list[Purchase]) -> set[int]:
    ok: set[int] = set()
    for purchase in purchases:
        try:
            await payouts.can_dispute(repo, clock.now(), user, purchase.order.id)
        except DomainError:
            continue
        ok.add(purchase.order.id)
    return ok


async def _send_list(message: Message, repo: Repo, clock: Clock, user: User) -> None:
    purchases = await repo.orders.purchases(user.id, LIST_LIMIT)
    text, markup = _render(purchases, user, await _disputable(repo, clock, user, purchases))
    await message.answer(text, reply_markup=markup)


@router.message(Command("purchases"))
async def list_purchases(message: Message, repo: Repo, clock: Clock, user: User) -> None:
    await _send_list(message, repo, clock, user)


@router.callback_query(PurchaseCD.filter(F.action == "list"))
async def list_purchases_button(callback: CallbackQuery, repo: Repo, clock: Clock, user: User) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await _send_list(callback.message, repo, clock, user)


@router.callback_query(PurchaseCD.filter(F.action == "show"))
async def show_again(
    callback: CallbackQuery,
    callback_data: PurchaseCD,
    bot: Bot,
    repo: Repo,
    user: User,
    secrets: Secrets,
    photo_storage: PhotoStorage,
) -> None:
    order = await repo.orders.by_id(callback_data.id)
    if order is None or order.buyer_id != user.id or order.status != OrderStatus.PAID:
        await callback.answer(_("purchases-not-yours"), show_alert=True)
        return
    ticket = await repo.orders.ticket(order.ticket_id)
    assert ticket is not None
    await callback.answer()
    await send_ticket(bot, user, order, ticket, secrets, photo_storage)


# --- the buyer opens a dispute -----------------------------------------------------------------------------
@router.callback_query(PurchaseCD.filter(F.action == "dispute"))
async def ask_buyer_words(
    callback: CallbackQuery, callback_data: PurchaseCD, repo: Repo, clock: Clock, state: FSMContext, user: User
) -> None:
    try:
        await payouts.can_dispute(repo, clock.now(), user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await state.set_state(DisputeInput.buyer_words)
    await state.update_data(dispute_order=callback_data.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("dispute-ask-words"))


@router.message(DisputeInput.buyer_words, F.text, ~F.text.startswith("/"))
async def buyer_words(
    message: Message,
    repo: Repo,
    clock: Clock,
    state: FSMContext,
    user: User,
    notifier: Notifier,
    settings: Settings,
) -> None:
    order_id = int((await state.get_data()).get("dispute_order", 0))
    try:
        case = await payouts.open_dispute(repo, clock.now(), user, order_id, message.text or "")
    except DomainError as error:
        await message.answer(_(error.code))
        if error.code != "dispute-text-empty":
            await state.set_state(None)
        return
    await state.set_state(None)
    await message.answer(_("dispute-opened"))
    seller = case.seller
    reply = InlineKeyboardMarkup(
        inline_keyboard=[[_button(translate("dispute-seller-reply", seller.language),
                                  DisputeCD(action="reply", id=case.dispute.id))]]
    )  # fmt: skip
    event = hd.quote(event_line(case.ticket, seller.language))
    await notifier.send(
        seller.telegram_id,
        translate("dispute-seller-told", seller.language, event=event, words=hd.quote(case.dispute.buyer_text)),
        reply_markup=reply,
    )
    await tell_admins(repo, notifier, settings, "money-dispute-opened", dispute_id=case.dispute.id)


# --- the seller's side -------------------------------------------------------------------------------------
@router.callback_query(DisputeCD.filter(F.action == "reply"))
async def ask_seller_words(
    callback: CallbackQuery, callback_data: DisputeCD, repo: Repo, state: FSMContext, user: User
) -> None:
    case = await _case_of_seller(repo, callback_data.id, user)
    if case is None:
        await callback.answer(_("dispute-not-yours"), show_alert=True)
        return
    if case.dispute.status != DisputeStatus.OPEN:
        await callback.answer(_("dispute-closed"), show_alert=True)
        return
    await state.set_state(DisputeInput.seller_words)
    await state.update_data(dispute_id=case.dispute.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("dispute-ask-seller-words"))


async def _case_of_seller(repo: Repo, dispute_id: int, user: User) -> DisputeCase | None:
    cases = await repo.payouts.cases(dispute_ids=[dispute_id])
    return cases[0] if cases and cases[0].seller.id == user.id else None


@router.message(DisputeInput.seller_words, F.text, ~F.text.startswith("/"))
async def seller_words(message: Message, repo: Repo, state: FSMContext, user: User) -> None:
    dispute_id = int((await state.get_data()).get("dispute_id", 0))
    try:
        await payouts.add_seller_words(repo, user, dispute_id, message.text or "")
    except DomainError as error:
        await message.answer(_(error.code))
        if error.code != "dispute-text-empty":
            await state.set_state(None)
        return
    await state.set_state(None)
    await message.answer(_("dispute-seller-saved"))


@router.message(DisputeInput.buyer_words, ~F.text)
@router.message(DisputeInput.seller_words, ~F.text)
async def words_not_text(message: Message) -> None:
    await message.answer(_("dispute-send-text"))
