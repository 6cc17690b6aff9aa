"""What the bot tells people outside their own update, in the recipient's language: the texts the outbox's renderers
(handlers/payments/delivery.py) share."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import translate
from db.models import Payout, Ticket
from handlers.shared.cards import ticket_line
from handlers.shared.display import amount_text

EVENTS_PER_MESSAGE = 10  # a seller with more expired listings at once gets the first ones and a count


def event(ticket: Ticket, language: str) -> str:
    return hd.quote(ticket_line(ticket, language))


def hold_expired(ticket: Ticket, language: str) -> str:
    return translate("sweep-hold-expired", language, event=event(ticket, language))


def listings_expired(tickets: Sequence[Ticket], language: str) -> str:
    lines = [f"• {event(ticket, language)}" for ticket in tickets[:EVENTS_PER_MESSAGE]]
    if len(tickets) > EVENTS_PER_MESSAGE:
        lines.append(translate("list-more", language, count=len(tickets) - EVENTS_PER_MESSAGE))
    return translate("sweep-listings-expired", language, events="\n".join(lines))


def payout_released(ticket: Ticket, payout: Payout, language: str) -> str:
    amount = amount_text(payout.amount, payout.currency, language)
    return translate("sweep-payout-released", language, event=event(ticket, language), amount=amount)
