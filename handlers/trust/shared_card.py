"""The card a share link opens (and the Share button draws): the ticket, its seller's record, the link itself, and
Buy / Ask the seller while it is on sale and not the reader's own."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from handlers.shared.cards import Audience, CardFacts, ticket_card
from handlers.trust.keyboards import shared_card_keyboard
from services import sharing
from services.clock import Clock
from services.relay import ON_SALE
from services.rules import PaymentRules


async def share_link(bot: Bot, repo: Repo, ticket_id: int) -> str:
    """https://t.me/<bot>?start=t_<code>; the bot's username is got once and cached by aiogram (Bot.me)."""
    me = await bot.me()
    return f"https://t.me/{me.username}?start={sharing.start_payload(await sharing.share_code(repo, ticket_id))}"


async def send_shared_card(
    message: Message, bot: Bot, repo: Repo, clock: Clock, user: User, code: str, payment: PaymentRules
) -> None:
    shared = await sharing.resolve(repo, code)
    ticket = shared.ticket
    language = get_i18n().current_locale
    lines = [ticket_card(CardFacts.of_ticket(ticket), Audience.FEED, language, seller=shared.seller, payment=payment)]
    on_sale = ticket.status in ON_SALE and ticket.event_at > clock.now()
    if not on_sale:
        lines.append(_("share-not-on-sale"))
    lines.append(_("share-link").format(link=await share_link(bot, repo, ticket.id)))
    markup = shared_card_keyboard(ticket.id) if on_sale and ticket.seller_id != user.id else None
    await message.answer("\n\n".join(lines), reply_markup=markup)
