"""Events: listings with the same folded name, city and local date and time are one event, with a page of its
tickets by price and a line on each card saying how many more tickets the event has."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from db.models import Ticket
from db.repo import Repo
from db.repositories.events import EventKey, MoreTickets
from services.errors import DomainError
from services.feed import fold

PAGE_SIZE = 10


def event_key(name: str, city_id: int, city_tz: str, event_at: datetime) -> str:
    """The event a listing belongs to: its name folded as the feed folds it, its city, and the minute it starts in
    the city's own time (so two sellers typing 19:00 in Moscow meet, whatever the server's zone)."""
    local = event_at.astimezone(ZoneInfo(city_tz))
    raw = f"{fold(name)}\x1f{city_id}\x1f{local:%Y-%m-%dT%H:%M}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def key_of(ticket: Ticket) -> str:
    """The event key a ticket should carry; publish sets tickets.event_key to this."""
    return event_key(ticket.event_name, ticket.city_id, ticket.city_tz, ticket.event_at)


async def more_for_cards(repo: Repo, tickets: Sequence[Ticket], now: datetime) -> dict[int, MoreTickets]:
    """For each card's ticket, the other tickets on sale for its event (count and lowest price): "3 more tickets
    for this event from 1,800 RUB". One query for the whole page (none when no ticket has an event key); cards with
    none are left out."""
    return await repo.events.more_tickets(tickets, now)


@dataclass(frozen=True)
class EventPage:
    tickets: list[Ticket]  # on sale, cheapest first (then oldest listing), with their seats
    next_key: EventKey | None  # where the next page starts; None on the last page


async def event_page(
    repo: Repo, key: str, now: datetime, after: EventKey | None = None, *, size: int = PAGE_SIZE
) -> EventPage:
    """One page of an event's tickets on sale, by price, keyset-paged on (price, id)."""
    tickets = await repo.events.on_sale(key, now, after, size + 1)
    more = len(tickets) > size
    tickets = tickets[:size]
    return EventPage(tickets, EventKey(tickets[-1].price, tickets[-1].id) if more else None)


async def event_of(repo: Repo, ticket_id: int) -> Ticket:
    """The ticket an event page or a waiting list button names (its event is the ticket's event key)."""
    ticket = await repo.orders.ticket(ticket_id)
    if ticket is None or ticket.event_key is None:
        raise DomainError("event-gone")
    return ticket
