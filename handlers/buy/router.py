"""Buy: the hold and its invoice, letting it go, and "tell me when it's free" for a ticket someone else holds.
Paying is handlers/payments. A hold never stays without its invoice: an invoice Telegram did not take ends the
hold at once (a failed callback answer never stops the invoice: see bot/middlewares/hiccups.py)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from db.models import User
from db.repo import Repo
from handlers.buy.callbacks import BuyAction, BuyCD, HoldAction, HoldCD
from handlers.buy.keyboards import invoice_keyboard, wait_keyboard
from handlers.buy.pages import GONE_CODES, drawn, pressed_on, view_of
from handlers.buy.views import Invoice, invoice
from handlers.feed.pages import current_filters
from handlers.shared.editing import edit_in_place
from services import availability, deliveries, orders
from services.clock import Clock
from services.errors import DomainError
from services.rules import PaymentRules, WaitlistRules

log = logging.getLogger(__name__)


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
    message = callback.message if isinstance(callback.message, Message) else None
    view = view_of(callback_data, await current_filters(state))
    origin = pressed_on(message, callback.data, view) if message else None
    try:
        hold = await orders.hold(repo, payment_rules, clock.now(), user, callback_data.id, origin)
    except DomainError as error:
        if error.code in ("buy-reserved", "buy-offered"):  # someone else's turn: wait, or queue for the event
            await callback.answer()
            if message:
                markup = wait_keyboard(_("buy-wait"), callback_data.id, error.code == "buy-reserved")
                await message.answer(_(error.code), reply_markup=markup)
            return
        await callback.answer(_(error.code), show_alert=True)
        if message and origin and error.code in GONE_CODES:  # a stale Buy: draw its message as it is now
            language = get_i18n().current_locale
            text, page = await drawn(repo, clock.now(), user, callback_data.id, view, payment_rules, language)
            await edit_in_place(message, text, page)
        return
    if not hold.new:  # a double click, or Buy again: the invoice above is still good
        await callback.answer(_("buy-wait-yours"), show_alert=True)
        return
    held = _("buy-held").format(minutes=settings.reservation_minutes)
    texts = invoice(hold, user.language, payment_rules)
    await callback.answer(f"{held}\n{texts.stars}" if texts.stars else held)
    try:
        await _send_invoice(bot, user, hold, texts, settings)
    except TelegramAPIError as error:  # refused, or lost on the way: the hold ends, the buyer may press Buy again
        log.warning("invoice for order %s not sent: %s", hold.order.id, error.message)
        await orders.cancel_hold(repo, clock.now(), user, hold.order.id)
        await bot.send_message(user.telegram_id, _("buy-invoice-failed"))


async def _send_invoice(bot: Bot, user: User, hold: orders.Hold, texts: Invoice, settings: Settings) -> None:
    token = settings.payment_provider_token
    await bot.send_invoice(
        chat_id=user.telegram_id,
        title=texts.title,
        description=texts.description,
        payload=hold.order.public_id,
        currency=hold.charge.currency,
        prices=texts.prices,
        provider_token=token.get_secret_value() if token else None,
        reply_markup=invoice_keyboard(texts.pay, texts.cancel, hold.order.id),
    )


async def cancel(
    callback: CallbackQuery, callback_data: HoldCD, repo: Repo, clock: Clock, user: User,
    waitlist_rules: WaitlistRules,
) -> None:  # fmt: skip
    try:
        order = await orders.cancel_hold(repo, clock.now(), user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    now = clock.now()  # those waiting for the ticket are told through the outbox, queued with the cancel
    await deliveries.enqueue_free_again(repo, [order.ticket_id], now)
    announcement = await availability.back_on_sale(repo, waitlist_rules, now, [order.ticket_id])
    await deliveries.enqueue_available(repo, announcement, waitlist_rules.offer_minutes, now)
    await callback.answer(_("buy-cancelled"))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


async def wait(callback: CallbackQuery, callback_data: BuyCD, repo: Repo, clock: Clock, user: User) -> None:
    try:
        await orders.wait_for(repo, clock.now(), user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer(_("buy-wait-noted"), show_alert=True)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


def create_router() -> Router:
    """A fresh router with Buy's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(buy, BuyCD.filter(F.action == BuyAction.BUY))
    router.callback_query.register(cancel, HoldCD.filter(F.action == HoldAction.CANCEL))
    router.callback_query.register(wait, BuyCD.filter(F.action == BuyAction.WAIT))
    return router
