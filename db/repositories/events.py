"""Event queries: an event's tickets on sale by price (ix_tickets_event), and the other tickets of each card's event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Ticket, TicketStatus


@dataclass(frozen=True)
class EventKey:
    """A ticket's place on its event page."""

    price: int
    ticket_id: int


@dataclass(frozen=True)
class MoreTickets:
    count: int
    min_price: int
    currency: str


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def on_sale(self, key: str, now: datetime, after: EventKey | None, limit: int) -> list[Ticket]:
        conditions = [Ticket.event_key == key, Ticket.status == TicketStatus.ACTIVE, Ticket.event_at > now]
        if after is not None:
            conditions.append(tuple_(Ticket.price, Ticket.id) > tuple_(literal(after.price), literal(after.ticket_id)))
        query = select(Ticket).where(*conditions).order_by(Ticket.price, Ticket.id).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def more_tickets(self, ticket_ids: Sequence[int], now: datetime) -> dict[int, MoreTickets]:
        if not ticket_ids:
            return {}
        other = aliased(Ticket)
        query = (
            select(Ticket.id, func.count(other.id), func.min(other.price), func.min(other.currency))
            .join(other, (other.event_key == Ticket.event_key) & (other.id != Ticket.id))
            .where(Ticket.id.in_(ticket_ids), other.status == TicketStatus.ACTIVE, other.event_at > now)
            .group_by(Ticket.id)
        )
        rows = await self.session.execute(query)
        return {ticket_id: MoreTickets(int(n), int(price), currency) for ticket_id, n, price, currency in rows}
