"""Buy: the hold and its invoice, letting it go, and "tell me when it's free" for a ticket someone else holds.
Paying is handlers/payments.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.markdown import html_decoration as hd

from bot.i18n import translate
from bot.notifier import Notifier
from bot.settings import Settings
from db.models import User
from db.repo import Repo
from handlers.callback_ids import RowId
from handlers.feed import BuyCD, page_ref, redraw
from handlers.long_text import clip
from handlers.ticket_text import amount_text, event_line, seat_text
from services import orders
from services.clock import Clock
from services.errors import DomainError
from services.rules import PaymentRules

router = Router(name=__name__)
log = logging.getLogger(__name__)

TITLE_MAX = 32
DESCRIPTION_MAX = 255


class HoldCD(CallbackData, prefix="hold"):
    action: str  # cancel
    id: RowId  # order id


class PurchaseCD(CallbackData, prefix="pur"):
    """The buttons under a delivered ticket (handled in handlers/purchases.py)."""

    action: str  # show | dispute | list
    id: RowId = 0  # order id


# --- the hold and the invoice ------------------------------------------------------------------------------
@router.callback_query(BuyCD.filter(F.action == "buy"))
async def buy(
    callback: CallbackQuery,
    callback_data: BuyCD,
    bot: Bot,
    repo: Repo,
    settings: Settings,
    payment_rules: PaymentRules,
    clock: Clock,
    state: FSMContext,
    user: User,
) -> None:
    try:
        hold = await orders.hold(repo, payment_rules, clock.now(), user, callback_data.id)
    except DomainError as error:
        if error.code == "buy-reserved":
            await callback.answer()
            await _offer_wait(callback, callback_data.id)
            return
        await callback.answer(_(error.code), show_alert=True)
        if callback_data.at:  # a stale card on a feed page: draw the page as it is now
            await redraw(callback, repo, clock, state, user, page_ref(callback_data.at, callback_data.key))
        return
    if not hold.new:  # a double click, or Buy again: the invoice above is still good
        await callback.answer(_("buy-wait-yours"), show_alert=True)
        return
    await callback.answer(_("buy-held").format(minutes=settings.reservation_minutes))
    try:
        await _send_invoice(bot, user, hold, settings)
    except TelegramAPIError as error:  # refused, or lost on the way: the hold ends, the buyer may press Buy again
        log.warning("invoice for order %s not sent: %s", hold.order.id, error.message)
        await orders.cancel_hold(repo, clock.now(), user, hold.order.id)
        await bot.send_message(user.telegram_id, _("buy-invoice-failed"))


async def _send_invoice(bot: Bot, user: User, hold: orders.Hold, settings: Settings) -> None:
    ticket, charge, language = hold.ticket, hold.charge, user.language
    description = _("buy-invoice-description").format(
        event=event_line(ticket, language),
        seat=seat_text(ticket) or _("buy-seat-none"),
        minutes=settings.reservation_minutes,
    )
    if settings.uses_stars:  # one price item: the fee folded in, and said in the label
        label = _("buy-price-ticket-fee").format(percent=settings.service_fee_percent) if charge.fee else None
        prices = [LabeledPrice(label=label or _("buy-price-ticket"), amount=charge.total)]
    else:
        prices = [LabeledPrice(label=_("buy-price-ticket"), amount=charge.price)]
        if charge.fee:
            fee_label = _("buy-price-fee").format(percent=settings.service_fee_percent)
            prices.append(LabeledPrice(label=fee_label, amount=charge.fee))
    pay = _("buy-pay").format(amount=amount_text(charge.total, charge.currency, language))
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=pay, pay=True)],
            [
                InlineKeyboardButton(
                    text=_("buy-cancel"), callback_data=HoldCD(action="cancel", id=hold.order.id).pack()
                )
            ],
        ]
    )
    token = settings.payment_provider_token
    await bot.send_invoice(
        chat_id=user.telegram_id,
        title=clip(ticket.event_name, TITLE_MAX),
        description=clip(description, DESCRIPTION_MAX),
        payload=hold.order.public_id,
        currency=charge.currency,
        prices=prices,
        provider_token=token.get_secret_value() if token else None,
        reply_markup=markup,
    )


@router.callback_query(HoldCD.filter(F.action == "cancel"))
async def cancel(
    callback: CallbackQuery, callback_data: HoldCD, repo: Repo, clock: Clock, user: User, notifier: Notifier
) -> None:
    try:
        order = await orders.cancel_hold(repo, clock.now(), user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer(_("buy-cancelled"))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    await tell_waiters(repo, notifier, [order.ticket_id])


# --- waiting for a held ticket -----------------------------------------------------------------------------
async def _offer_wait(callback: CallbackQuery, ticket_id: int) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("buy-wait"), callback_data=BuyCD(action="wait", id=ticket_id).pack())]
        ]
    )
    if isinstance(callback.message, Message):
        await callback.message.answer(_("buy-reserved"), reply_markup=markup)


@router.callback_query(BuyCD.filter(F.action == "wait"))
async def wait(callback: CallbackQuery, callback_data: BuyCD, repo: Repo, clock: Clock, user: User) -> None:
    try:
        await orders.wait_for(repo, clock.now(), user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer(_("buy-wait-noted"), show_alert=True)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


async def tell_waiters(repo: Repo, notifier: Notifier, ticket_ids: Sequence[int]) -> int:
    """Tell everyone who asked that these tickets are back on sale, with a Buy button; each waiter once (the rows
    are taken). The hold sweep calls this too, after it commits. Returns how many were told."""
    waiting = await repo.orders.take_waiters(ticket_ids)
    await repo.commit()
    told = 0
    for ticket_id, waiter in waiting:
        ticket = await repo.orders.ticket(ticket_id)
        if ticket is None:
            continue
        text = translate("buy-free-again", waiter.language, event=hd.quote(event_line(ticket, waiter.language)))
        label = translate("buy-now", waiter.language)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=BuyCD(action="buy", id=ticket_id).pack())]]
        )
        told += await notifier.send(waiter.telegram_id, text, reply_markup=markup)
    return told
