"""What a payment sets moving through Telegram: the ticket delivered to its buyer alone, and a refund given back
(Stars through refundStarPayment, anything else an admin task). Payments, purchases and admins use them."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import gettext as _

from bot.notifier import Notifier
from bot.settings import Settings
from db.models import Order, Refund, Ticket, User
from db.repo import Repo
from handlers.notices import tell_admins
from handlers.payments.views import ticket_details
from handlers.purchases.keyboards import delivered_keyboard
from services import orders
from services.barcodes import render_barcode_png
from services.clock import Clock
from services.crypto import Secrets
from services.storage import PhotoNotFound, PhotoStorage
from services.ticket_documents import buyer_attachment

log = logging.getLogger(__name__)


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


async def send_ticket(
    bot: Bot, buyer: User, order: Order, ticket: Ticket, secrets: Secrets, photo_storage: PhotoStorage
) -> None:
    """The ticket for its buyer: the barcode re-rendered as a clean image of the same symbology, the seller's
    original photo, the event's details. Protected content: Telegram won't let them be forwarded or saved."""
    barcode = await asyncio.to_thread(
        render_barcode_png, ticket.barcode_format, secrets.open_text(ticket.barcode_ciphertext)
    )
    chat = buyer.telegram_id
    await bot.send_photo(
        chat, BufferedInputFile(barcode, "barcode.png"), caption=_("buy-barcode-caption"), protect_content=True
    )
    try:
        attachment = await buyer_attachment(photo_storage, ticket)
    except PhotoNotFound:
        log.error("ticket %s: the photo is missing from the storage", ticket.id)
    else:
        document = BufferedInputFile(attachment.data, attachment.filename)
        if attachment.is_picture:
            await bot.send_photo(chat, document, caption=_("buy-photo-caption"), protect_content=True)
        else:
            await bot.send_document(chat, document, caption=_("buy-pass-caption"), protect_content=True)
    markup = delivered_keyboard(_("purchases-dispute"), _("purchases-open"), order.id)
    await bot.send_message(chat, ticket_details(order, ticket, buyer.language), reply_markup=markup,
                           protect_content=True)  # fmt: skip
