"""The seller's side of tickets: publishing a listing, relisting, withdrawing, and the seller's own lists ("My
tickets"), newest first with keyset pagination on (created_at, id) over ix_tickets_seller."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import rowcount
from db.models import Ticket, TicketStatus
from db.repositories.feed import Key


class ListingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_fingerprint(self, fingerprint: str) -> Ticket | None:
        query = select(Ticket).where(Ticket.barcode_fingerprint == fingerprint)
        return (await self.session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()

    async def release_fingerprint(self, ticket_id: int, seller_id: int, statuses: Collection[TicketStatus]) -> bool:
        """Take the fingerprint off the seller's own old ticket (in one of `statuses`) so that the same barcode can
        be listed again; False when that ticket is no longer so."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.seller_id == seller_id, Ticket.status.in_(list(statuses)))
            .values(barcode_fingerprint=None)
        )
        return rowcount(result) == 1

    async def add(self, ticket: Ticket) -> Ticket:
        """Raises IntegrityError (and leaves the surrounding transaction usable) on a barcode listed meanwhile."""
        async with self.session.begin_nested():
            self.session.add(ticket)
        return ticket

    async def listed_since(self, seller_id: int, since: datetime) -> int:
        """How many tickets the seller listed from `since` on, whatever became of them."""
        query = select(func.count(Ticket.id)).where(Ticket.seller_id == seller_id, Ticket.created_at >= since)
        return int((await self.session.execute(query)).scalar_one())

    async def own(self, ticket_id: int, seller_id: int) -> Ticket | None:
        query = select(Ticket).where(Ticket.id == ticket_id, Ticket.seller_id == seller_id)
        return (await self.session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()

    async def withdraw(self, ticket_id: int, seller_id: int, now: datetime) -> bool:
        """active -> withdrawn, only for the seller and only while on sale (never under a buyer's hold)."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.seller_id == seller_id, Ticket.status == TicketStatus.ACTIVE)
            .values(status=TicketStatus.WITHDRAWN, updated_at=now)
        )
        return rowcount(result) == 1

    async def of_seller(
        self, seller_id: int, statuses: Collection[TicketStatus], after: Key | None, limit: int
    ) -> list[Ticket]:
        """Up to `limit` of the seller's tickets in `statuses`, newest listing first, after `after` (from the top
        when None)."""
        conditions = [Ticket.seller_id == seller_id, Ticket.status.in_(list(statuses))]
        if after is not None:
            edge = tuple_(
                bindparam(None, after.created_at, type_=Ticket.__table__.c.created_at.type), literal(after.ticket_id)
            )
            conditions.append(tuple_(Ticket.created_at, Ticket.id) < edge)
        query = select(Ticket).where(*conditions).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())
