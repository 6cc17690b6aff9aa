"""Admins and money: /payouts (released payouts with the seller's phone, the only place a phone is shown; mark
paid), /disputes (both sides' words and the order; refund the buyer or release to the seller), /refunds (refund
tasks: provider refunds done by hand, Stars refunds Telegram refused), /outbox (deliveries that ended dead, and
`/outbox retry ID`)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from bot.filters import IsAdmin
from bot.settings import Settings
from db.models import DisputeStatus, RefundStatus, User
from db.repo import Repo
from db.repositories.payouts import DisputeCase, PayoutLine
from handlers.admin.callbacks import MoneyAction, MoneyCD
from handlers.payments.delivery import refund
from handlers.shared.cards import ticket_line
from handlers.shared.display import amount_text
from handlers.shared.editing import edit_in_place
from handlers.shared.long_text import fit_blocks
from services import deliveries, orders, outbox, payouts
from services.clock import Clock
from services.errors import DomainError
from services.payouts import PayoutGateway

LIST_LIMIT = 20
DISPUTES_LIMIT = 5


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


# --- payouts -----------------------------------------------------------------------------------------------
def _payouts_view(lines: list[PayoutLine], language: str) -> tuple[str, InlineKeyboardMarkup]:
    if not lines:
        return _("money-payouts-none"), InlineKeyboardMarkup(inline_keyboard=[])
    blocks = [
        _("money-payout-line").format(
            number=number,
            payout_id=line.payout.id,
            seller=hd.quote(line.seller.full_name),
            phone=line.seller.phone_e164,
            amount=amount_text(line.payout.amount, line.payout.currency, language),
            event=hd.quote(ticket_line(line.ticket, language)),
        )
        for number, line in enumerate(lines, start=1)
    ]
    text, shown = fit_blocks(_("money-payouts-title"), blocks)
    buttons = [
        _button(_("money-mark-paid").format(number=number), MoneyCD(action=MoneyAction.PAID, id=line.payout.id))
        for number, line in enumerate(lines[:shown], start=1)
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 4] for i in range(0, len(buttons), 4)])


async def list_payouts(message: Message, repo: Repo, user: User | None) -> None:
    language = user.language if user else "en"
    text, markup = _payouts_view(await payouts.released(repo, LIST_LIMIT), language)
    await message.answer(text, reply_markup=markup)


async def mark_paid(
    callback: CallbackQuery,
    callback_data: MoneyCD,
    repo: Repo,
    clock: Clock,
    user: User | None,
    payout_gateway: PayoutGateway,
) -> None:
    try:
        line = await payouts.mark_paid(repo, payout_gateway, clock.now(), callback_data.id, callback.from_user.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
    else:
        await deliveries.enqueue_payout_paid(repo, line.payout, line.seller)  # with the payment, before a word
        await callback.answer(_("money-marked-paid"))
    if isinstance(callback.message, Message):
        text, markup = _payouts_view(await payouts.released(repo, LIST_LIMIT), user.language if user else "en")
        await edit_in_place(callback.message, text, markup)


# --- disputes ----------------------------------------------------------------------------------------------
_DISPUTE_STATUS_KEYS = {
    DisputeStatus.REFUNDED: "money-dispute-refunded",
    DisputeStatus.RELEASED: "money-dispute-released",
}


def _case_text(case: DisputeCase, language: str) -> str:
    order, dispute = case.order, case.dispute
    text = _("money-dispute-case").format(
        dispute_id=dispute.id,
        order_id=order.public_id,
        event=hd.quote(ticket_line(case.ticket, language)),
        amount=amount_text(order.amount, order.currency, language),
        buyer=hd.quote(case.buyer.full_name),
        seller=hd.quote(case.seller.full_name),
        buyer_words=hd.quote(dispute.buyer_text),
        seller_words=hd.quote(dispute.seller_text) if dispute.seller_text else _("money-dispute-no-words"),
    )
    if dispute.status != "open":
        text += "\n\n" + _(_DISPUTE_STATUS_KEYS[dispute.status])
    return text


def _case_markup(case: DisputeCase) -> InlineKeyboardMarkup:
    if case.dispute.status != "open":
        return InlineKeyboardMarkup(inline_keyboard=[])
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(_("money-refund-buyer"), MoneyCD(action=MoneyAction.REFUND, id=case.dispute.id)),
                _button(_("money-release-seller"), MoneyCD(action=MoneyAction.RELEASE, id=case.dispute.id)),
            ]
        ]
    )


async def list_disputes(message: Message, repo: Repo, user: User | None) -> None:
    cases = await payouts.open_disputes(repo, DISPUTES_LIMIT)
    if not cases:
        await message.answer(_("money-disputes-none"))
        return
    language = user.language if user else "en"
    for case in cases:
        await message.answer(_case_text(case, language), reply_markup=_case_markup(case))


async def settle(
    callback: CallbackQuery,
    callback_data: MoneyCD,
    bot: Bot,
    repo: Repo,
    clock: Clock,
    settings: Settings,
    user: User | None,
) -> None:
    refunding = callback_data.action == MoneyAction.REFUND
    decide = payouts.refund_dispute if refunding else payouts.release_dispute
    try:
        settlement = await decide(repo, clock.now(), callback_data.id, callback.from_user.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    case = settlement.case
    await deliveries.enqueue_dispute_settled(repo, case)  # with the decision, before a word
    await callback.answer(_("money-decided"))
    if settlement.refund is not None:
        await refund(bot, repo, clock, settings.admin_ids, settlement.refund)
    if isinstance(callback.message, Message):
        await edit_in_place(callback.message, _case_text(case, user.language if user else "en"), _case_markup(case))


# --- refund tasks ------------------------------------------------------------------------------------------
async def list_refunds(message: Message, repo: Repo, user: User | None) -> None:
    text, markup = await _refunds_view(repo, user.language if user else "en")
    await message.answer(text, reply_markup=markup)


async def _refunds_view(repo: Repo, language: str) -> tuple[str, InlineKeyboardMarkup]:
    tasks = await orders.pending_refunds(repo, LIST_LIMIT)
    if not tasks:
        return _("money-refunds-none"), InlineKeyboardMarkup(inline_keyboard=[])
    blocks = []
    for number, task in enumerate(tasks, start=1):
        refund_row, order, payer = task.refund, task.order, task.payer
        blocks.append(
            _("money-refund-line").format(
                number=number,
                refund_id=refund_row.id,
                order_id=order.public_id if order else "—",
                amount=amount_text(refund_row.amount, refund_row.currency, language),
                buyer=hd.quote(payer.full_name if payer else str(refund_row.payer_telegram_id or "—")),
                charge=hd.quote(refund_row.provider_payment_charge_id or refund_row.telegram_payment_charge_id or "—"),
                reason=refund_row.reason,
            )
        )
    text, shown = fit_blocks(_("money-refunds-title"), blocks)
    buttons = [
        _button(_("money-mark-refunded").format(number=number), MoneyCD(action=MoneyAction.REFUNDED, id=task.refund.id))
        for number, task in enumerate(tasks[:shown], start=1)
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 4] for i in range(0, len(buttons), 4)])


async def mark_refunded(
    callback: CallbackQuery,
    callback_data: MoneyCD,
    bot: Bot,
    repo: Repo,
    clock: Clock,
    settings: Settings,
    user: User | None,
) -> None:
    """A provider refund an admin did by hand; for Stars, the refund is asked of Telegram again."""
    task = await orders.refund_task(repo, callback_data.id)
    if task is None or task.status != RefundStatus.PENDING:
        await callback.answer(_("money-refund-done-already"), show_alert=True)
    elif task.currency == orders.STARS:
        done = await refund(bot, repo, clock, settings.admin_ids, task)
        await callback.answer(_("money-refund-sent" if done else "money-refund-failed"), show_alert=not done)
    else:
        await orders.refunded_by_hand(repo, clock.now(), task.id, callback.from_user.id)
        await callback.answer(_("money-refund-marked"))
    if isinstance(callback.message, Message):
        await edit_in_place(callback.message, *await _refunds_view(repo, user.language if user else "en"))


# --- dead deliveries -----------------------------------------------------------------------------------------
async def list_outbox(message: Message, command: CommandObject, repo: Repo) -> None:
    """`/outbox`: the newest dead rows with their last error; `/outbox retry ID`: that row is tried again."""
    args = (command.args or "").split()
    if args:
        if len(args) != 2 or args[0] != "retry" or not args[1].isdigit() or len(args[1]) > 18:
            await message.answer(_("money-outbox-usage"))
            return
        revived = await outbox.retry(repo.session, int(args[1]))
        await message.answer(_("money-outbox-retried" if revived else "money-outbox-not-dead").format(id=args[1]))
        return
    dead = await outbox.dead_messages(repo.session, LIST_LIMIT)
    if not dead:
        await message.answer(_("money-outbox-none"))
        return
    blocks = [
        _("money-outbox-line").format(
            id=row.id, kind=row.kind, chat=row.chat_id, attempts=row.attempts, error=hd.quote(row.last_error or "—")
        )
        for row in dead
    ]
    text, _shown = fit_blocks(_("money-outbox-title"), blocks)
    await message.answer(text)


def create_money_router() -> Router:
    """A fresh router with this feature's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.message.register(list_payouts, Command("payouts"))
    router.callback_query.register(mark_paid, MoneyCD.filter(F.action == MoneyAction.PAID))
    router.message.register(list_disputes, Command("disputes"))
    router.callback_query.register(settle, MoneyCD.filter(F.action.in_({MoneyAction.REFUND, MoneyAction.RELEASE})))
    router.message.register(list_refunds, Command("refunds"))
    router.callback_query.register(mark_refunded, MoneyCD.filter(F.action == MoneyAction.REFUNDED))
    router.message.register(list_outbox, Command("outbox"))
    return router
