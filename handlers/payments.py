"""Paying: pre-checkout, the payment (recorded, or refunded when the ticket can't be the payer's), the ticket's
delivery to the buyer alone, the seller's notice, refunds. Its router comes first: money that arrived is recorded
whatever the payer was doing (a wizard step, a search prompt) when Telegram confirmed it."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message, PreCheckoutQuery
from aiogram.utils.i18n import gettext as _
from aiogram.utils.markdown import html_decoration as hd

from bot.i18n import translate
from bot.notifier import Notifier
from bot.settings import Settings
from db.models import Order, Refund, Ticket, User
from db.repo import Repo
from handlers.buy import PurchaseCD
from handlers.shared.formatting import describe_local
from handlers.ticket_text import amount_text, city_name, event_line, seat_text
from services import orders
from services.barcodes import render_barcode_png
from services.clock import Clock
from services.crypto import Secrets
from services.errors import DomainError
from services.orders import Outcome, Payment
from services.rules import PaymentRules
from services.storage import PhotoNotFound, PhotoStorage

router = Router(name=__name__)
log = logging.getLogger(__name__)


# --- paying ------------------------------------------------------------------------------------------------
@router.pre_checkout_query()
async def pre_checkout(query: PreCheckoutQuery, repo: Repo, clock: Clock, user: User | None) -> None:
    """Answered from one indexed read, well within Telegram's 10 seconds."""
    try:
        await orders.check_checkout(repo, clock.now(), user, query.invoice_payload, query.currency, query.total_amount)
    except DomainError as error:
        await query.answer(ok=False, error_message=_(error.code))
        return
    await query.answer(ok=True)


@router.message(F.successful_payment, flags={"public": True})
async def paid(
    message: Message,
    bot: Bot,
    repo: Repo,
    settings: Settings,
    payment_rules: PaymentRules,
    clock: Clock,
    user: User | None,
    notifier: Notifier,
    secrets: Secrets,
    photo_storage: PhotoStorage,
) -> None:
    success = message.successful_payment
    assert success is not None and message.from_user is not None
    payment = Payment(
        payload=success.invoice_payload,
        currency=success.currency,
        total_amount=success.total_amount,
        telegram_charge_id=success.telegram_payment_charge_id,
        provider_charge_id=success.provider_payment_charge_id,
        payer_telegram_id=message.from_user.id,
    )
    result = await orders.record_payment(repo, payment_rules, clock.now(), user, payment)
    if result.outcome == Outcome.DUPLICATE:
        log.info("payment %s delivered again: nothing to do", payment.telegram_charge_id)
        return
    if result.outcome == Outcome.REFUND:
        assert result.refund is not None
        await refund(bot, repo, clock, notifier, settings, result.refund)
        await message.answer(_(f"buy-refunded-{result.reason}"))
        return
    assert result.order is not None and result.ticket is not None and user is not None
    await message.answer(_("buy-paid"))
    try:
        await send_ticket(bot, user, result.order, result.ticket, secrets, photo_storage)
    finally:  # the sale stands either way (My purchases shows the ticket again): the seller hears of it
        await _tell_seller(repo, notifier, result)


async def refund(bot: Bot, repo: Repo, clock: Clock, notifier: Notifier, settings: Settings, task: Refund) -> bool:
    """Give a payment back. Stars: refundStarPayment now, and the refund row is done. A provider payment (or a
    Stars refund Telegram refused) stays a pending refund row: the admins are told to do it by hand."""
    charge = task.telegram_payment_charge_id
    if task.currency == orders.STARS and charge and task.payer_telegram_id:
        try:
            refunded = await bot.refund_star_payment(task.payer_telegram_id, charge)
        except TelegramBadRequest as error:  # done before (a retry after a lost answer) counts as done
            refunded = "CHARGE_ALREADY_REFUNDED" in error.message
            if not refunded:
                log.error("Stars refund of %s refused: %s", charge, error.message)
        except TelegramAPIError as error:
            refunded = False
            log.error("Stars refund of %s failed: %s", charge, error)
        if refunded:
            await orders.complete_refund(repo, clock.now(), task.id)
            return True
    await tell_admins(repo, notifier, settings, "money-refund-task", refund_id=task.id)
    return False


async def tell_admins(repo: Repo, notifier: Notifier, settings: Settings, key: str, **params: object) -> None:
    for admin_id in settings.admin_ids:
        admin = await repo.users.by_telegram_id(admin_id)
        await notifier.send(admin_id, translate(key, admin.language if admin else "en", **params))


async def send_ticket(
    bot: Bot, buyer: User, order: Order, ticket: Ticket, secrets: Secrets, photo_storage: PhotoStorage
) -> None:
    """The ticket for its buyer: the barcode re-rendered as a clean image of the same symbology, the seller's
    original photo, the event's details. Protected content: Telegram won't let them be forwarded or saved."""
    language = buyer.language
    details = _("buy-ticket-details").format(
        event=hd.quote(event_line(ticket, language)),
        seat=hd.quote(seat_text(ticket) or _("buy-seat-none")),
        paid=amount_text(order.amount, order.currency, language),
    )
    barcode = await asyncio.to_thread(
        render_barcode_png, ticket.barcode_format, secrets.open_text(ticket.barcode_ciphertext)
    )
    chat = buyer.telegram_id
    await bot.send_photo(
        chat, BufferedInputFile(barcode, "barcode.png"), caption=_("buy-barcode-caption"), protect_content=True
    )
    try:
        photo = await photo_storage.get(ticket.photo_key)
    except PhotoNotFound:
        log.error("ticket %s: the photo is missing from the storage", ticket.id)
    else:
        await bot.send_photo(
            chat, BufferedInputFile(photo, "ticket.jpg"), caption=_("buy-photo-caption"), protect_content=True
        )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("purchases-dispute"), callback_data=PurchaseCD(action="dispute", id=order.id).pack()
                )
            ],
            [InlineKeyboardButton(text=_("purchases-open"), callback_data=PurchaseCD(action="list").pack())],
        ]
    )
    await bot.send_message(chat, details, reply_markup=markup, protect_content=True)


async def _tell_seller(repo: Repo, notifier: Notifier, result: orders.PaymentResult) -> None:
    assert result.ticket is not None and result.payout is not None
    seller = await repo.users.by_id(result.ticket.seller_id)
    if seller is None:
        return
    ticket, language = result.ticket, seller.language
    city = city_name(ticket.city_id, language, ticket.city_name)
    release = describe_local(result.payout.release_at, ticket.city_tz, language, city_name=city)
    text = translate(
        "buy-seller-sold",
        language,
        event=hd.quote(event_line(ticket, language)),
        amount=amount_text(result.payout.amount, result.payout.currency, language),
        release=hd.quote(release),
    )
    await notifier.send(seller.telegram_id, text)


@router.message(F.refunded_payment, flags={"public": True})
async def refunded_notice(message: Message) -> None:
    """Telegram's service message about a refund we made: the buyer was already told."""
