"""My tickets as text: a tab's title and the seller's cards with their status."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from db.models import Ticket
from handlers.shared.cards import Audience, CardFacts, ticket_card
from services.listings import SellerPage, Tab


def card(ticket: Ticket, number: int, language: str) -> str:
    body = ticket_card(CardFacts.of_ticket(ticket), Audience.OWNER, language, number=number)
    return body + "\n" + _(f"my-status-{ticket.status.value}")


def page_text(page: SellerPage, tab: Tab, language: str) -> str:
    blocks = [_("my-title").format(tab=_(f"my-tab-{tab.value}"))]
    if not page.tickets:
        blocks.append(_(f"my-empty-{tab.value}"))
    blocks.extend(card(ticket, number, language) for number, ticket in enumerate(page.tickets, start=1))
    return "\n\n".join(blocks)
