"""The buyer's ticket as delivered after payment: the card and what they paid."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from db.models import Order, Ticket
from handlers.shared.cards import Audience, CardFacts, ticket_card
from handlers.shared.display import amount_text


def ticket_details(order: Order, ticket: Ticket, language: str) -> str:
    card = ticket_card(CardFacts.of_ticket(ticket), Audience.BUYER, language)
    return _("buy-ticket-details").format(card=card, paid=amount_text(order.amount, order.currency, language))
