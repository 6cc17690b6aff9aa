"""My purchases: the tickets a buyer paid for, the barcode again, and "the ticket didn't work" (a dispute, which
freezes the seller's payout until an admin decides); the seller's side of a dispute."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from bot.workers.outbox import RenderContext
from db.models import DisputeStatus, OrderStatus, User
from db.repo import Repo
from db.repositories.orders import Purchase
from handlers.payments.delivery import ticket_calls
from handlers.purchases.callbacks import DisputeAction, DisputeCD, DisputeInput, PurchaseAction, PurchaseCD
from handlers.purchases.keyboards import button
from handlers.purchases.views import purchases_text
from handlers.trust.keyboards import rate_button
from services import deliveries, orders, payouts, ratings
from services.clock import Clock
from services.crypto import Secrets
from services.errors import DomainError
from services.storage import PhotoStorage

LIST_LIMIT = 10


async def _disputable(repo: Repo, clock: Clock, user: User, purchases: list[Purchase]) -> set[int]:
    ok: set[int] = set()
    for purchase in purchases:
        try:
            await payouts.can_dispute(repo, clock.now(), user, purchase.order.id)
        except DomainError:
            continue
        ok.add(purchase.order.id)
    return ok


async def _rateable(repo: Repo, user: User, purchases: list[Purchase]) -> set[int]:
    ok: set[int] = set()
    for purchase in purchases:
        try:
            await ratings.can_rate(repo, user, purchase.order.id)
        except DomainError:
            continue
        ok.add(purchase.order.id)
    return ok


async def _send_list(message: Message, repo: Repo, clock: Clock, user: User) -> None:
    purchases = await orders.purchases(repo, user, LIST_LIMIT)
    if not purchases:
        await message.answer(_("purchases-empty"))
        return
    disputable = await _disputable(repo, clock, user, purchases)
    rateable = await _rateable(repo, user, purchases)
    text, shown = purchases_text(purchases, user.language)
    rows: list[list[InlineKeyboardButton]] = []
    for number, purchase in enumerate(purchases[:shown], start=1):
        order = purchase.order
        row = []
        if order.status == OrderStatus.PAID:
            row.append(button(_("purchases-show").format(number=number),
                              PurchaseCD(action=PurchaseAction.SHOW, id=order.id)))  # fmt: skip
        if order.id in disputable:
            row.append(button(_("purchases-dispute-short").format(number=number),
                              PurchaseCD(action=PurchaseAction.DISPUTE, id=order.id)))  # fmt: skip
        if order.id in rateable:
            row.append(rate_button(_("rate-button").format(number=number), order.id))
        if row:
            rows.append(row)
    await message.answer(text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def list_purchases(message: Message, repo: Repo, clock: Clock, user: User) -> None:
    await _send_list(message, repo, clock, user)


async def list_purchases_button(callback: CallbackQuery, repo: Repo, clock: Clock, user: User) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await _send_list(callback.message, repo, clock, user)


async def show_again(
    callback: CallbackQuery,
    callback_data: PurchaseCD,
    bot: Bot,
    repo: Repo,
    user: User,
    secrets: Secrets,
    photo_storage: PhotoStorage,
) -> None:
    try:
        order, _ticket = await orders.paid_purchase(repo, user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer()
    for call in await ticket_calls(RenderContext(repo, secrets, photo_storage), order.id, user.telegram_id, paid=False):
        await bot(call)


# --- the buyer opens a dispute -----------------------------------------------------------------------------
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


async def buyer_words(
    message: Message,
    repo: Repo,
    clock: Clock,
    state: FSMContext,
    user: User,
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
    await deliveries.enqueue_dispute_opened(repo, case, settings.admin_ids)  # with the freeze, before a word
    await state.set_state(None)
    await message.answer(_("dispute-opened"))


# --- the seller's side -------------------------------------------------------------------------------------
async def ask_seller_words(
    callback: CallbackQuery, callback_data: DisputeCD, repo: Repo, state: FSMContext, user: User
) -> None:
    case = await payouts.case_of_seller(repo, user, callback_data.id)
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


async def words_not_text(message: Message) -> None:
    await message.answer(_("dispute-send-text"))


def create_router() -> Router:
    """A fresh router with My purchases' and the disputes' handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(list_purchases, Command("purchases"))
    router.callback_query.register(list_purchases_button, PurchaseCD.filter(F.action == PurchaseAction.LIST))
    router.callback_query.register(show_again, PurchaseCD.filter(F.action == PurchaseAction.SHOW))
    router.callback_query.register(ask_buyer_words, PurchaseCD.filter(F.action == PurchaseAction.DISPUTE))
    router.message.register(buyer_words, DisputeInput.buyer_words, F.text, ~F.text.startswith("/"))
    router.callback_query.register(ask_seller_words, DisputeCD.filter(F.action == DisputeAction.REPLY))
    router.message.register(seller_words, DisputeInput.seller_words, F.text, ~F.text.startswith("/"))
    router.message.register(words_not_text, DisputeInput.seller_words, ~F.text)
    router.message.register(words_not_text, DisputeInput.buyer_words, ~F.text)
    return router
