"""Listings of 2-8 tickets of one event: "sold separately" (each ticket on its own) or "sold together" (adjacent
seats: one price, one hold, one order, one invoice, never sold in part). The hold, the sale and the refund are
services.orders', which moves every ticket of a unit (`unit_of`) with `move_unit`.

A together-group moves as a unit: every status change of its tickets is one conditional UPDATE over the group inside
a savepoint, kept only when it moved every ticket of the group; otherwise it is rolled back and reported as not done.
The order of a together-group points at its lead ticket (the lowest id), so uq_orders_paid_ticket still allows one
paid order per group. A payment that can't buy every ticket is refunded in full."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from db.models import GroupMode, ListingGroup, Ticket, TicketStatus, User
from db.repo import Repo
from services.errors import DomainError
from services.pricing import max_price
from services.seats import Seat

MIN_SIZE, MAX_SIZE = 2, 8

# Every code a refusal here can carry (each has a text in sell.po); the hold and the sale are services.orders'.
ERROR_CODES = ("group-size", "group-tickets", "group-event", "group-price")


class _Partial(Exception):
    """A together-group's tickets did not all move: the savepoint is rolled back."""


async def create_group(
    repo: Repo,
    now: datetime,
    seller: User,
    ticket_ids: Sequence[int],
    mode: GroupMode,
    *,
    total_price: int | None = None,
    max_markup_percent: int = 0,
) -> ListingGroup:
    """Group the seller's just-published tickets (each went through every barcode check as a single listing).
    Together: `total_price` is the group's one price, capped like a single ticket's (the sum of the face values
    plus MAX_MARKUP_PERCENT); it is spread over the tickets so that their prices add up to it."""
    ids = sorted(set(ticket_ids))
    if not MIN_SIZE <= len(ids) <= MAX_SIZE:
        raise DomainError("group-size", low=MIN_SIZE, high=MAX_SIZE)
    tickets = [await repo.orders.ticket(ticket_id) for ticket_id in ids]
    if any(t is None or t.seller_id != seller.id or t.status != TicketStatus.ACTIVE or t.group_id for t in tickets):
        raise DomainError("group-tickets")
    found = [t for t in tickets if t is not None]
    if len({(t.event_key, t.currency) for t in found}) != 1 or found[0].event_key is None:
        raise DomainError("group-event")
    if mode == GroupMode.TOGETHER:
        cap = max_price(sum(t.face_value for t in found), max_markup_percent)
        if total_price is None or not 1 <= total_price <= cap:
            raise DomainError("group-price", max_price=cap)
    group = await repo.groups.add(ListingGroup(seller_id=seller.id, mode=mode, size=len(ids), created_at=now))
    if await repo.groups.join(group.id, ids, seller.id) != len(ids):
        raise DomainError("group-tickets")  # the caller rolls back: a ticket changed meanwhile
    if mode == GroupMode.TOGETHER and total_price is not None:
        share, rest = divmod(total_price, len(ids))
        for n, ticket_id in enumerate(ids):
            await repo.groups.set_price(ticket_id, share + (rest if n == 0 else 0))
    return group


@dataclass(frozen=True)
class Unit:
    """What one Buy takes: a single ticket, or a together-group's every ticket (the lead first)."""

    lead: Ticket
    tickets: list[Ticket]
    group_id: int | None

    @property
    def price(self) -> int:
        return sum(ticket.price for ticket in self.tickets)

    @property
    def currency(self) -> str:
        return self.lead.currency

    @property
    def ids(self) -> list[int]:
        return [ticket.id for ticket in self.tickets]


@dataclass(frozen=True)
class SeatSpan:
    """The seats of a unit for its card ("Row 5, seats 12-13"): section and row when all tickets share them."""

    section: str | None
    row: str | None
    first: str | None
    last: str | None


def seat_span(tickets: Sequence[Ticket]) -> SeatSpan:
    return span_of_seats([Seat(t.seat_section, t.seat_row, t.seat_number, t.standing) for t in tickets])


def span_of_seats(places: Sequence[Seat | None]) -> SeatSpan:
    """The span of seats as the seller typed them (None: no seat), for a listing not published yet."""

    def number_order(seat: str) -> tuple[int, int | str]:
        return (0, int(seat)) if seat.isdigit() else (1, seat)

    given = [place or Seat(None, None, None) for place in places]
    sections = {t.section for t in given}
    rows = {t.row for t in given}
    seats = sorted((t.number for t in given if t.number), key=number_order)
    return SeatSpan(
        sections.pop() if len(sections) == 1 else None,
        rows.pop() if len(rows) == 1 else None,
        seats[0] if seats else None,
        seats[-1] if seats else None,
    )


async def unit_of(repo: Repo, ticket_id: int) -> Unit | None:
    """The unit a ticket is sold in: for any ticket of a together-group, the whole group."""
    ticket = await repo.orders.ticket(ticket_id)
    if ticket is None:
        return None
    group = await repo.groups.by_id(ticket.group_id) if ticket.group_id else None
    if group is None or group.mode != GroupMode.TOGETHER:
        return Unit(ticket, [ticket], None)
    return together(group.id, await repo.groups.tickets(group.id))


def together(group_id: int, tickets: list[Ticket]) -> Unit:
    """A together-group's unit from its tickets by id: the first one leads (its card, its order)."""
    return Unit(tickets[0], tickets, group_id)


async def move_unit(
    repo: Repo,
    unit: Unit,
    before: Sequence[TicketStatus],
    after: TicketStatus,
    now: datetime,
    *,
    buyer_id: int | None = None,
) -> bool:
    """Every ticket of the unit from one of `before` to `after`, or none: True when all moved."""
    if unit.group_id is None:
        for status in before:
            if await repo.orders.move_ticket(unit.lead.id, status, after, now, buyer_id=buyer_id):
                return True
        return False
    try:
        async with repo.session.begin_nested():
            moved = await repo.groups.move_tickets(unit.group_id, before, after, now, buyer_id)
            if len(moved) != len(unit.tickets):
                raise _Partial
    except _Partial:
        return False
    return True


async def reopen_together(repo: Repo, reopened_ticket_ids: Sequence[int], now: datetime) -> list[int]:
    """After a hold of a group ended (the hold sweep reopened its lead ticket): the group's other tickets back on
    sale too; their ids. The hold sweep calls it with the ids it reopened."""
    return await repo.groups.reopen_groups(await repo.groups.together_groups(reopened_ticket_ids), now)
