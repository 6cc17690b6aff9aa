"""The scheduler's set-based state changes. Each is one UPDATE ... WHERE ... RETURNING over every row due, so the
rows one call returns are exactly the rows it changed: another bot instance running the same sweep at the same
moment gets none of them. On PostgreSQL the rows are claimed with FOR UPDATE SKIP LOCKED, so two sweeps (or a sweep
and a buyer's transaction) never wait on each other nor deadlock; SQLite serialises writers anyway."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, OrderStatus, Ticket, TicketStatus, User
from db.repositories.orders import bare_update


@dataclass(frozen=True)
class LapsedHold:
    order_id: int
    ticket_id: int
    buyer_id: int


class SweepRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def expire_listings(self, now: datetime) -> list[int]:
        """Tickets on sale whose event has started -> expired; the ids this call expired."""
        due = (
            select(Ticket.id)
            .where(Ticket.status == TicketStatus.ACTIVE, Ticket.event_at <= now)
            .with_for_update(skip_locked=True)
        )
        statement = (
            bare_update(Ticket)
            .where(Ticket.id.in_(due), Ticket.status == TicketStatus.ACTIVE)
            .values(status=TicketStatus.EXPIRED, updated_at=now)
            .returning(Ticket.id)
        )
        return sorted((await self.session.execute(statement)).scalars())

    async def expire_holds(self, now: datetime, *, ticket_id: int | None = None) -> list[LapsedHold]:
        """Pending orders past their hold (all, or this ticket's) -> expired; those this call expired."""
        conditions = [Order.status == OrderStatus.PENDING, Order.expires_at <= now]
        if ticket_id is not None:
            conditions.append(Order.ticket_id == ticket_id)
        due = select(Order.id).where(*conditions).with_for_update(skip_locked=True)
        statement = (
            bare_update(Order)
            .where(Order.id.in_(due), Order.status == OrderStatus.PENDING)
            .values(status=OrderStatus.EXPIRED)
            .returning(Order.id, Order.ticket_id, Order.buyer_id)
        )
        rows = await self.session.execute(statement)
        return sorted((LapsedHold(*row) for row in rows), key=lambda hold: hold.order_id)

    async def reopen(self, ticket_ids: Sequence[int], now: datetime) -> list[int]:
        """Reserved tickets among these -> back on sale; the ids this call reopened. A ticket is reserved by its one
        pending order, so only the transaction that ended that order reopens the ticket."""
        if not ticket_ids:
            return []
        statement = (
            bare_update(Ticket)
            .where(Ticket.id.in_(ticket_ids), Ticket.status == TicketStatus.RESERVED)
            .values(status=TicketStatus.ACTIVE, updated_at=now)
            .returning(Ticket.id)
        )
        return sorted((await self.session.execute(statement)).scalars())

    async def tickets(self, ticket_ids: Sequence[int]) -> list[Ticket]:
        """The tickets as they are now, in id order."""
        if not ticket_ids:
            return []
        query = (
            select(Ticket)
            .where(Ticket.id.in_(ticket_ids))
            .order_by(Ticket.id)
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(query)).scalars())

    async def tickets_of_orders(self, order_ids: Sequence[int]) -> dict[int, Ticket]:
        """The tickets of these orders, by order id."""
        if not order_ids:
            return {}
        query = select(Order.id, Ticket).join(Ticket, Ticket.id == Order.ticket_id).where(Order.id.in_(order_ids))
        return {order_id: ticket for order_id, ticket in await self.session.execute(query)}

    async def users(self, user_ids: Sequence[int]) -> dict[int, User]:
        """Accounts by id (to tell them what a sweep did)."""
        if not user_ids:
            return {}
        query = select(User).where(User.id.in_(user_ids)).execution_options(populate_existing=True)
        return {user.id: user for user in (await self.session.execute(query)).scalars()}
