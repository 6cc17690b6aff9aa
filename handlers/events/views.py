"""How an event page reads: the event, then its tickets on sale by price, each with its seat."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from db.models import Ticket
from handlers.shared.cards import CardFacts, seat_label, ticket_line
from handlers.shared.display import event_type_label, money
from services.events import EventPage


def page_text(event: Ticket, page: EventPage, language: str) -> str:
    title = _("events-title").format(name=hd.quote(event.event_name), type=event_type_label(event.event_type))
    lines = [title, hd.quote(ticket_line(event, language)), ""]
    if not page.tickets:
        lines.append(_("events-empty"))
    for number, ticket in enumerate(page.tickets, start=1):
        seat = seat_label(CardFacts.of_ticket(ticket).seat, language) or _("events-no-seat")
        lines.append(f"{number}. <b>{money(ticket.price, ticket.currency, language)}</b> — {hd.quote(seat)}")
    return "\n".join(lines)
