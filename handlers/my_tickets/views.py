"""My tickets as text: a tab's title and the seller's cards with their status."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from db.models import Ticket, TicketStatus
from handlers.shared.cards import Audience, CardFacts, ticket_card
from services.listings import SellerPage, Tab

# Literal keys, never built at run time: the i18n test finds each one in the catalogues.
STATUS_KEYS = {
    TicketStatus.ACTIVE: "my-status-active",
    TicketStatus.RESERVED: "my-status-reserved",
    TicketStatus.SOLD: "my-status-sold",
    TicketStatus.EXPIRED: "my-status-expired",
    TicketStatus.WITHDRAWN: "my-status-withdrawn",
    TicketStatus.BLOCKED: "my-status-blocked",
    TicketStatus.FROZEN: "my-status-frozen",
}
TAB_KEYS = {
    Tab.ON_SALE: "my-tab-sale",
    Tab.RESERVED: "my-tab-reserved",
    Tab.SOLD: "my-tab-sold",
    Tab.EXPIRED: "my-tab-expired",
    Tab.WITHDRAWN: "my-tab-withdrawn",
}
EMPTY_KEYS = {
    Tab.ON_SALE: "my-empty-sale",
    Tab.RESERVED: "my-empty-reserved",
    Tab.SOLD: "my-empty-sold",
    Tab.EXPIRED: "my-empty-expired",
    Tab.WITHDRAWN: "my-empty-withdrawn",
}


def card(ticket: Ticket, number: int, language: str) -> str:
    body = ticket_card(CardFacts.of_ticket(ticket), Audience.OWNER, language, number=number)
    return body + "\n" + _(STATUS_KEYS[ticket.status])


def page_text(page: SellerPage, tab: Tab, language: str) -> str:
    blocks = [_("my-title").format(tab=_(TAB_KEYS[tab]))]
    if not page.tickets:
        blocks.append(_(EMPTY_KEYS[tab]))
    blocks.extend(card(ticket, number, language) for number, ticket in enumerate(page.tickets, start=1))
    return "\n\n".join(blocks)
