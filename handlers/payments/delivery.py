"""What a payment or a sweep sets moving through Telegram: the renderers of the outbox kinds (services/deliveries.py;
the outbox worker gets RENDERERS), the ticket's calls that /purchases "show again" makes too, and a refund given
back (Stars through refundStarPayment; anything else, or a Stars refund that failed, an admin task in the outbox).

The barcode is opened and drawn at send time, never stored in the outbox; when it can't be drawn, the seller's
original photo stands in for it. A together-group's order delivers every ticket's barcode and photo."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile
from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import i18n, translate
from bot.workers.outbox import RenderContext, Renderer
from db.models import Claim, ClaimStatus, DisputeStatus, OutboxMessage, Refund, Ticket
from db.repo import Repo
from db.repositories.payouts import DisputeCase
from handlers import notices
from handlers.buy.keyboards import buy_now_keyboard
from handlers.buy.pages import drawn
from handlers.payments.views import ticket_details
from handlers.purchases.keyboards import delivered_keyboard, reply_keyboard
from handlers.shared.cards import ticket_line
from handlers.shared.display import REFUND_REASON_KEYS, amount_text, city_name, local_time, money
from handlers.talk.views import closed_text
from services import deliveries, groups, orders, relay
from services.clock import Clock
from services.relay import CloseReason
from services.storage import PhotoNotFound
from services.ticket_documents import Attachment, buyer_attachment

log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """What the row tells of is gone from the database: it fails (and ends dead, for an admin to look at)."""


T = TypeVar("T")


def found(value: T | None, row: OutboxMessage, name: str) -> T:
    """`value` read back for the row, or Undeliverable naming the row's `name` param when it is gone."""
    if value is None:
        raise Undeliverable(f"{name} {row.params[name]}")
    return value


async def refund(bot: Bot, repo: Repo, clock: Clock, admin_ids: list[int], task: Refund) -> bool:
    """Give a payment back. Stars: refundStarPayment now, and the refund row is done. A provider payment (or a
    Stars refund Telegram refused or failed) stays a pending refund row, an admin task in the outbox (the
    reconciler asks Telegram again for a Stars one)."""
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
    await deliveries.enqueue_refund_task(repo, task, admin_ids)
    return False


async def ticket_calls(context: RenderContext, order_id: int, chat_id: int, *, paid: bool) -> list[TelegramMethod[Any]]:
    """The ticket for its buyer, protected from forwarding and saving: ("Paid" after the payment), each ticket's
    barcode re-rendered clean (or its original photo in its place) and its original photo, then the details with
    the dispute button. The same calls every time for the same order (the outbox resumes after the sent ones)."""
    sale = await deliveries.sale(context.repo, order_id)
    if sale is None:
        raise Undeliverable(f"order {order_id}")
    language = sale.buyer.language
    unit = await groups.unit_of(context.repo, sale.ticket.id)
    calls: list[TelegramMethod[Any]] = (
        [SendMessage(chat_id=chat_id, text=translate("buy-paid", language))] if paid else []
    )
    for ticket in unit.tickets if unit else [sale.ticket]:
        calls += await _barcode_calls(context, ticket, chat_id, language)
    with i18n.context(), i18n.use_locale(language):
        details = ticket_details(sale.order, sale.ticket, language)
    markup = delivered_keyboard(
        translate("purchases-dispute", language), translate("purchases-open", language), sale.order.id
    )
    calls.append(SendMessage(chat_id=chat_id, text=details, reply_markup=markup, protect_content=True))
    return calls


async def _barcode_calls(context: RenderContext, ticket: Ticket, chat: int, language: str) -> list[TelegramMethod[Any]]:
    try:
        attachment: Attachment | None = await buyer_attachment(context.photo_storage, ticket)
    except PhotoNotFound:
        log.error("ticket %s: the photo is missing from the storage", ticket.id)
        attachment = None
    from services.barcodes import render_barcode_png  # the image libraries: on first use (services/barcode_values.py)

    try:
        text = context.secrets.open_text(ticket.barcode_ciphertext)
        barcode: bytes | None = await asyncio.to_thread(render_barcode_png, ticket.barcode_format, text)
    except Exception as error:  # an empty or odd decode the renderer can't draw: the original photo is the ticket
        # The error's type only: its message or traceback could quote the barcode text, which is never logged.
        log.warning("ticket %s: no rendering (%s); sending the original photo", ticket.id, type(error).__name__)
        barcode = None
    calls: list[TelegramMethod[Any]] = []
    if barcode is not None:
        calls.append(_photo(chat, barcode, "barcode.png", translate("buy-barcode-caption", language)))
    elif attachment is None:
        raise Undeliverable(f"ticket {ticket.id}: neither a barcode nor a photo")
    if attachment is not None and attachment.is_picture:  # the photo, or the PDF's page the code is on
        caption = "buy-photo-caption" if barcode is not None else "buy-barcode-caption"
        calls.append(_photo(chat, attachment.data, attachment.filename, translate(caption, language)))
    elif attachment is not None:  # the Wallet pass itself, to open in Wallet
        document = BufferedInputFile(attachment.data, attachment.filename)
        caption = translate("buy-pass-caption", language)
        calls.append(SendDocument(chat_id=chat, document=document, caption=caption, protect_content=True))
    return calls


def _photo(chat: int, data: bytes, name: str, caption: str) -> SendPhoto:
    return SendPhoto(chat_id=chat, photo=BufferedInputFile(data, name), caption=caption, protect_content=True)


# --- the payment's outbox kinds ---------------------------------------------------------------------------------
async def ticket(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    return await ticket_calls(context, row.params["order_id"], row.chat_id, paid=True)


async def sale_notice(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    """The seller hears of the sale: the event, what they get and when (never who bought it)."""
    sale = await deliveries.sale(context.repo, row.params["order_id"])
    if sale is None or sale.payout is None:
        raise Undeliverable(f"order {row.params['order_id']}")
    language, sold = sale.seller.language, sale.ticket
    city = city_name(sold.city_id, language, sold.city_name)
    text = translate(
        "buy-seller-sold",
        language,
        event=hd.quote(ticket_line(sold, language)),
        amount=amount_text(sale.payout.amount, sale.payout.currency, language),
        release=hd.quote(local_time(sale.payout.release_at, sold.city_tz, city, language)),
    )
    return [SendMessage(chat_id=row.chat_id, text=text)]


async def refund_notice(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    given_back = found(await deliveries.refund(context.repo, row.params["refund_id"]), row, "refund_id")
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [SendMessage(chat_id=row.chat_id, text=translate(REFUND_REASON_KEYS[given_back.reason], language))]


async def refund_task(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    language = await deliveries.language_of(context.repo, row.chat_id)
    text = translate("money-refund-task", language, refund_id=row.params["refund_id"])
    return [SendMessage(chat_id=row.chat_id, text=text)]


async def buy_message(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    """The buyer's message they pressed Buy on, drawn as it is at the payment: their ticket no longer offered."""
    sale = await deliveries.sale(context.repo, row.params["order_id"])
    order = sale.order if sale else None
    if sale is None or order is None or order.buy_message_id is None or not order.buy_view or order.paid_at is None:
        raise Undeliverable(f"order {row.params['order_id']}")
    language = sale.buyer.language
    with i18n.context(), i18n.use_locale(language):
        text, markup = await drawn(
            context.repo, order.paid_at, sale.buyer, sale.ticket.id, order.buy_view, context.payment_rules, language
        )
    return [EditMessageText(chat_id=row.chat_id, message_id=order.buy_message_id, text=text, reply_markup=markup)]


# --- the sweeps' outbox kinds (the texts are handlers/notices.py's) ----------------------------------------------
async def hold_ended(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    held = found(await deliveries.ticket_of_order(context.repo, row.params["order_id"]), row, "order_id")
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [SendMessage(chat_id=row.chat_id, text=notices.hold_expired(held, language))]


async def listings_expired(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    expired = found(await deliveries.tickets(context.repo, row.params["ticket_ids"]) or None, row, "ticket_ids")
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [SendMessage(chat_id=row.chat_id, text=notices.listings_expired(expired, language))]


async def payout_released(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    payout, sold = found(await deliveries.released(context.repo, row.params["payout_id"]), row, "payout_id")
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [SendMessage(chat_id=row.chat_id, text=notices.payout_released(sold, payout, language))]


async def payout_paid(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    payout, sold = found(await deliveries.released(context.repo, row.params["payout_id"]), row, "payout_id")
    language = await deliveries.language_of(context.repo, row.chat_id)
    amount = amount_text(payout.amount, payout.currency, language)
    text = translate("money-seller-paid", language, amount=amount, event=notices.event(sold, language))
    return [SendMessage(chat_id=row.chat_id, text=text)]


# --- the disputes' outbox kinds -----------------------------------------------------------------------------
async def _case(context: RenderContext, row: OutboxMessage) -> DisputeCase:
    return found(await deliveries.dispute(context.repo, row.params["dispute_id"]), row, "dispute_id")


async def dispute_opened(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    case = await _case(context, row)
    language = case.seller.language
    words = hd.quote(case.dispute.buyer_text)
    text = translate("dispute-seller-told", language, event=notices.event(case.ticket, language), words=words)
    markup = reply_keyboard(translate("dispute-seller-reply", language), case.dispute.id)
    return [SendMessage(chat_id=row.chat_id, text=text, reply_markup=markup)]


async def dispute_to_admin(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    case = await _case(context, row)
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [
        SendMessage(chat_id=row.chat_id, text=translate("money-dispute-opened", language, dispute_id=case.dispute.id))
    ]


SETTLED_KEYS = {  # (decided for the buyer, told to the buyer) -> the text's key
    (True, True): "dispute-buyer-refunded",
    (True, False): "dispute-seller-refunded",
    (False, True): "dispute-buyer-released",
    (False, False): "dispute-seller-released",
}


async def dispute_settled(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    case = await _case(context, row)
    to_buyer = row.chat_id == case.buyer.telegram_id
    language = (case.buyer if to_buyer else case.seller).language
    key = SETTLED_KEYS[(case.dispute.status == DisputeStatus.REFUNDED, to_buyer)]
    return [SendMessage(chat_id=row.chat_id, text=translate(key, language, event=notices.event(case.ticket, language)))]


# --- the moderation's outbox kinds --------------------------------------------------------------------------
MODERATED_KEYS = {
    deliveries.BLOCKED: "admin-seller-blocked",
    deliveries.UNBLOCKED: "admin-seller-unblocked",
    deliveries.UNBLOCKED_EXPIRED: "admin-seller-unblocked-expired",
}


async def _ticket(context: RenderContext, row: OutboxMessage) -> Ticket:
    return found(await deliveries.ticket(context.repo, row.params["ticket_id"]), row, "ticket_id")


async def moderated(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    listing = await _ticket(context, row)
    language = await deliveries.language_of(context.repo, row.chat_id)
    event, reason = notices.event(listing, language), hd.quote(row.params["reason"])
    text = translate(MODERATED_KEYS[row.params["what"]], language, event=event, reason=reason)
    return [SendMessage(chat_id=row.chat_id, text=text)]


async def hold_withdrawn(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    listing = await _ticket(context, row)
    language = await deliveries.language_of(context.repo, row.chat_id)
    text = translate("admin-buyer-hold-withdrawn", language, event=notices.event(listing, language))
    return [SendMessage(chat_id=row.chat_id, text=text)]


# --- a ticket available: the waiting list's and the alerts' outbox kinds ----------------------------------------
def _buy_now(chat_id: int, key_text: str, ticket: Ticket, language: str, **extra: object) -> SendMessage:
    params = {"event": notices.event(ticket, language), "price": money(ticket.price, ticket.currency, language)}
    text = translate(key_text, language, **params, **extra)
    markup = buy_now_keyboard(translate("buy-now", language), ticket.id)
    return SendMessage(chat_id=chat_id, text=text, reply_markup=markup)


async def waitlist_offer(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    listing = await _ticket(context, row)
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [_buy_now(row.chat_id, "waitlist-offer", listing, language, minutes=row.params["minutes"])]


async def alert_match(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    listing = await _ticket(context, row)
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [_buy_now(row.chat_id, "alerts-found", listing, language)]


async def free_again(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    listing = await _ticket(context, row)
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [_buy_now(row.chat_id, "buy-free-again", listing, language)]


# --- the claims' outbox kinds ---------------------------------------------------------------------------------
async def _claim(context: RenderContext, row: OutboxMessage) -> tuple[Claim, Ticket, str]:
    claimed, listing = found(await deliveries.claim(context.repo, row.params["claim_id"]), row, "claim_id")
    return claimed, listing, await deliveries.language_of(context.repo, row.chat_id)


async def claim_filed(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    _claimed, listing, language = await _claim(context, row)
    text = translate("sell-claim-seller", language, event=notices.event(listing, language))
    return [SendMessage(chat_id=row.chat_id, text=text)]


async def claim_to_admin(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    _claimed, listing, language = await _claim(context, row)
    return [SendMessage(chat_id=row.chat_id, text=translate("admin-claim-new", language, ticket=listing.id))]


CLAIM_DECIDED_KEYS = {  # (upheld, told to the claimant) -> the text's key
    (True, True): "claim-upheld-claimant",
    (True, False): "claim-upheld-seller",
    (False, True): "claim-dismissed-claimant",
    (False, False): "claim-dismissed-seller",
}


async def claim_decided(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    claimed, listing, language = await _claim(context, row)
    claimant = await deliveries.account(context.repo, claimed.claimant_id)
    to_claimant = claimant is not None and claimant.telegram_id == row.chat_id
    key = CLAIM_DECIDED_KEYS[(claimed.status == ClaimStatus.UPHELD, to_claimant)]
    return [SendMessage(chat_id=row.chat_id, text=translate(key, language, event=notices.event(listing, language)))]


# --- a conversation closed --------------------------------------------------------------------------------------
async def chat_closed(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    listing = await _ticket(context, row)
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [SendMessage(chat_id=row.chat_id, text=closed_text(CloseReason(row.params["reason"]), listing, language))]


RENDERERS: dict[str, Renderer] = {
    deliveries.TICKET: ticket,
    deliveries.SALE: sale_notice,
    deliveries.REFUND: refund_notice,
    deliveries.REFUND_TASK: refund_task,
    deliveries.BUY_MESSAGE: buy_message,
    deliveries.HOLD_ENDED: hold_ended,
    deliveries.LISTINGS_EXPIRED: listings_expired,
    deliveries.PAYOUT_RELEASED: payout_released,
    deliveries.PAYOUT_PAID: payout_paid,
    deliveries.DISPUTE_OPENED: dispute_opened,
    deliveries.DISPUTE_TO_ADMIN: dispute_to_admin,
    deliveries.DISPUTE_SETTLED: dispute_settled,
    deliveries.MODERATED: moderated,
    deliveries.HOLD_WITHDRAWN: hold_withdrawn,
    deliveries.WAITLIST_OFFER: waitlist_offer,
    deliveries.ALERT_MATCH: alert_match,
    deliveries.FREE_AGAIN: free_again,
    deliveries.CLAIM_FILED: claim_filed,
    deliveries.CLAIM_TO_ADMIN: claim_to_admin,
    deliveries.CLAIM_DECIDED: claim_decided,
    relay.CLOSED_NOTICE: chat_closed,
}
