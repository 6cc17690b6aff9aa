"""Event queries: an event's tickets on sale by price (ix_tickets_event), and the other tickets of each card's event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.direct import Direct
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

    async def more_tickets(self, tickets: Sequence[Ticket], now: datetime) -> dict[int, MoreTickets]:
        keyed = [ticket.id for ticket in tickets if ticket.event_key is not None]
        if not keyed:
            return {}
        rows = await _MORE.rows(self.session, {"ids": keyed, "now": now})
        return {ticket_id: MoreTickets(int(n), int(price), currency) for ticket_id, n, price, currency in rows}


_OTHER = aliased(Ticket)
# Built and compiled once (the alias and the statement; db.direct): each page only binds its ticket ids and the time.
_MORE = Direct(
    select(Ticket.id, func.count(_OTHER.id), func.min(_OTHER.price), func.min(_OTHER.currency))
    .join(_OTHER, (_OTHER.event_key == Ticket.event_key) & (_OTHER.id != Ticket.id))
    .where(
        Ticket.id.in_(bindparam("ids", expanding=True)),
        _OTHER.status == TicketStatus.ACTIVE,
        _OTHER.event_at > bindparam("now", type_=Ticket.__table__.c.event_at.type),
    )
    .group_by(Ticket.id)
)
