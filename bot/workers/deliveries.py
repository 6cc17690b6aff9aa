"""Renderers of the payment deliveries (services/deliveries.py kinds): the Bot API calls each outbox row makes,
built at send time in the recipient's language. The buyer's barcode is opened and drawn here, never stored in the
outbox; when it can't be drawn, the seller's original photo stands in for it.

(Phase 1 home: these move to handlers' notices module, which registers them with the worker.)"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram.methods import SendMessage, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import translate
from bot.workers.outbox import RenderContext, Renderer
from db.models import OutboxMessage
from handlers.purchases.callbacks import PurchaseAction, PurchaseCD
from handlers.shared.cards import CardFacts, seat_label, ticket_line
from handlers.shared.display import REFUND_REASON_KEYS, amount_text, city_name
from handlers.shared.formatting import describe_local
from services import deliveries
from services.barcodes import render_barcode_png
from services.storage import PhotoNotFound

log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """What the row tells of is gone from the database: it fails (and ends dead, for an admin to look at)."""


async def ticket(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    """ "Paid", the barcode re-rendered clean (or the original photo in its place), the original photo, the
    details with the dispute button; all protected from forwarding and saving."""
    sale = await deliveries.sale(context.repo, row.params["order_id"])
    if sale is None:
        raise Undeliverable(f"order {row.params['order_id']}")
    language, chat = sale.buyer.language, row.chat_id
    try:
        photo: bytes | None = await context.photo_storage.get(sale.ticket.photo_key)
    except PhotoNotFound:
        log.error("ticket %s: the photo is missing from the storage", sale.ticket.id)
        photo = None
    try:
        text = context.secrets.open_text(sale.ticket.barcode_ciphertext)
        barcode: bytes | None = await asyncio.to_thread(render_barcode_png, sale.ticket.barcode_format, text)
    except Exception:  # an empty or odd decode the renderer can't draw: the original photo is the ticket
        log.exception("ticket %s: the barcode can't be rendered; sending the original photo", sale.ticket.id)
        barcode = None
    calls: list[TelegramMethod[Any]] = [SendMessage(chat_id=chat, text=translate("buy-paid", language))]
    if barcode is not None:
        calls.append(_photo(chat, barcode, "barcode.png", translate("buy-barcode-caption", language)))
    elif photo is None:
        raise Undeliverable(f"ticket {sale.ticket.id}: neither a barcode nor a photo")
    if photo is not None:
        caption = "buy-photo-caption" if barcode is not None else "buy-barcode-caption"
        calls.append(_photo(chat, photo, "ticket.jpg", translate(caption, language)))
    details = translate(
        "buy-ticket-details",
        language,
        event=hd.quote(ticket_line(sale.ticket, language)),
        seat=hd.quote(
            seat_label(CardFacts.of_ticket(sale.ticket).seat, language) or translate("card-seat-none", language)
        ),
        paid=amount_text(sale.order.amount, sale.order.currency, language),
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=translate("purchases-dispute", language),
                    callback_data=PurchaseCD(action=PurchaseAction.DISPUTE, id=sale.order.id).pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text=translate("purchases-open", language),
                    callback_data=PurchaseCD(action=PurchaseAction.LIST).pack(),
                )
            ],
        ]
    )
    calls.append(SendMessage(chat_id=chat, text=details, reply_markup=markup, protect_content=True))
    return calls


def _photo(chat: int, data: bytes, name: str, caption: str) -> SendPhoto:
    return SendPhoto(chat_id=chat, photo=BufferedInputFile(data, name), caption=caption, protect_content=True)


async def sale_notice(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    """The seller hears of the sale: the event, what they get and when (never who bought it)."""
    sale = await deliveries.sale(context.repo, row.params["order_id"])
    if sale is None or sale.payout is None:
        raise Undeliverable(f"order {row.params['order_id']}")
    language, ticket_ = sale.seller.language, sale.ticket
    city = city_name(ticket_.city_id, language, ticket_.city_name)
    release = describe_local(sale.payout.release_at, ticket_.city_tz, language, city_name=city)
    text = translate(
        "buy-seller-sold",
        language,
        event=hd.quote(ticket_line(ticket_, language)),
        amount=amount_text(sale.payout.amount, sale.payout.currency, language),
        release=hd.quote(release),
    )
    return [SendMessage(chat_id=row.chat_id, text=text)]


async def refund_notice(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    refund = await deliveries.refund(context.repo, row.params["refund_id"])
    if refund is None:
        raise Undeliverable(f"refund {row.params['refund_id']}")
    language = await deliveries.language_of(context.repo, row.chat_id)
    return [SendMessage(chat_id=row.chat_id, text=translate(REFUND_REASON_KEYS[refund.reason], language))]


async def refund_task(context: RenderContext, row: OutboxMessage) -> list[TelegramMethod[Any]]:
    language = await deliveries.language_of(context.repo, row.chat_id)
    text = translate("money-refund-task", language, refund_id=row.params["refund_id"])
    return [SendMessage(chat_id=row.chat_id, text=text)]


RENDERERS: dict[str, Renderer] = {
    deliveries.TICKET: ticket,
    deliveries.SALE: sale_notice,
    deliveries.REFUND: refund_notice,
    deliveries.REFUND_TASK: refund_task,
}
