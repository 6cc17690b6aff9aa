"""Telling people a ticket is available: a waiter their exclusive offer, alert owners a match. The one place these
notices are sent (through the rate-limited notifier), so that moving them to the outbox is one change here."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import translate
from bot.notifier import Notifier
from db.models import Ticket, User
from handlers.buy.keyboards import buy_now_keyboard
from handlers.shared.cards import ticket_line
from handlers.shared.display import money
from services.availability import Announcement
from services.rules import WaitlistRules


def _params(ticket: Ticket, user: User) -> dict[str, str]:
    language = user.language
    return {
        "event": hd.quote(ticket_line(ticket, language)),
        "price": money(ticket.price, ticket.currency, language),
    }


async def tell_available(notifier: Notifier, announcement: Announcement, rules: WaitlistRules) -> int:
    """Send the offers first (their windows are running), then the alerts' matches; how many went out."""
    told = 0
    for offer in announcement.offers:
        user = offer.user
        text = translate("waitlist-offer", user.language, minutes=rules.offer_minutes, **_params(offer.ticket, user))
        markup = buy_now_keyboard(translate("buy-now", user.language), offer.ticket.id)
        told += await notifier.notify(user, text, reply_markup=markup)
    for match in announcement.matches:
        for user in match.users:
            text = translate("alerts-found", user.language, **_params(match.ticket, user))
            markup = buy_now_keyboard(translate("buy-now", user.language), match.ticket.id)
            told += await notifier.notify(user, text, reply_markup=markup)
    return told
