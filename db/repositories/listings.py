"""Tickets: publishing a listing, relisting, withdrawing, the seller's own lists ("My tickets", newest first with
keyset pagination on (created_at, id) over ix_tickets_seller), the admins' view (the count on sale, expired tickets
in keyset pages, a ticket's card, blocking) and the listing sweep.

The sweep's state changes are set-based: one UPDATE ... WHERE ... RETURNING over every row due, so the rows one call
returns are exactly the rows it changed and another bot instance running the same sweep at the same moment gets none
of them. On PostgreSQL the rows are claimed with FOR UPDATE SKIP LOCKED, so two sweeps (or a sweep and a buyer's
transaction) never wait on each other nor deadlock; SQLite serialises writers anyway."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.engine import rowcount
from db.models import Ticket, TicketStatus, User
from db.repositories.feed import Key
from db.repositories.orders import bare_update


async def moved_tickets(
    session: AsyncSession,
    condition: ColumnElement[bool],
    before: Sequence[TicketStatus],
    after: TicketStatus,
    now: datetime,
    **values: object,
) -> list[int]:
    """The tickets matching `condition` whose status is one of `before` -> `after` (with `values`), in one statement;
    the ids this call moved, in order."""
    statement = (
        bare_update(Ticket)
        .where(condition, Ticket.status.in_(before))
        .values(status=after, updated_at=now, **values)
        .returning(Ticket.id)
    )
    return sorted((await session.execute(statement)).scalars())


@dataclass(frozen=True)
class TicketCard:
    ticket: Ticket
    seller: User
    buyer: User | None


@dataclass(frozen=True)
class OutdatedKey:
    """An expired ticket's place in the list: latest event first."""

    event_at: datetime
    ticket_id: int


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

    # --- the admins' view ----------------------------------------------------------------------------------
    async def count_on_sale(self, now: datetime) -> int:
        query = select(func.count(Ticket.id)).where(Ticket.status == TicketStatus.ACTIVE, Ticket.event_at > now)
        return int((await self.session.execute(query)).scalar_one())

    @staticmethod
    def _outdated_edge(key: OutdatedKey) -> ColumnElement[Any]:
        event_at = bindparam(None, key.event_at, type_=Ticket.__table__.c.event_at.type)
        return tuple_(event_at, literal(key.ticket_id))

    async def outdated_after(self, key: OutdatedKey | None, limit: int) -> list[Ticket]:
        """Expired tickets after `key` (from the top when None), latest event first: one range scan of
        ix_tickets_status_event_at from the page's edge."""
        conditions: list[ColumnElement[bool]] = [Ticket.status == TicketStatus.EXPIRED]
        if key is not None:
            conditions.append(tuple_(Ticket.event_at, Ticket.id) < self._outdated_edge(key))
        query = select(Ticket).where(*conditions).order_by(Ticket.event_at.desc(), Ticket.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def outdated_before(self, key: OutdatedKey, limit: int) -> list[Ticket]:
        """Expired tickets before `key` (the previous page), latest event first."""
        query = (
            select(Ticket)
            .where(Ticket.status == TicketStatus.EXPIRED, tuple_(Ticket.event_at, Ticket.id) > self._outdated_edge(key))
            .order_by(Ticket.event_at, Ticket.id)
            .limit(limit)
        )
        return list(reversed((await self.session.execute(query)).scalars().all()))

    async def outdated_key_at(self, index: int) -> OutdatedKey | None:
        """The key of the `index`-th expired ticket (0-based) in list order: where "/outdated N" starts after."""
        query = (
            select(Ticket.event_at, Ticket.id)
            .where(Ticket.status == TicketStatus.EXPIRED)
            .order_by(Ticket.event_at.desc(), Ticket.id.desc())
            .offset(index)
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        return OutdatedKey(row[0], row[1]) if row else None

    async def card(self, ticket_id: int) -> TicketCard | None:
        seller, buyer = aliased(User), aliased(User)
        query = (
            select(Ticket, seller, buyer)
            .join(seller, seller.id == Ticket.seller_id)
            .outerjoin(buyer, buyer.id == Ticket.buyer_id)
            .where(Ticket.id == ticket_id)
            .execution_options(populate_existing=True)
        )
        row = (await self.session.execute(query)).first()
        return TicketCard(*row) if row else None

    async def move(
        self, ticket_id: int, before: Sequence[TicketStatus], after: TicketStatus, now: datetime, reason: str | None
    ) -> bool:
        """Ticket -> `after` (with the block reason, None to clear it) if its status is one of `before`."""
        statement = (
            bare_update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status.in_(before))
            .values(status=after, block_reason=reason, updated_at=now)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def block_listings_of(self, user_id: int, now: datetime, reason: str) -> list[int]:
        """The user's tickets on sale or reserved -> blocked, in one statement; the ids this call blocked."""
        on_sale = [TicketStatus.ACTIVE, TicketStatus.RESERVED]
        return await moved_tickets(
            self.session, Ticket.seller_id == user_id, on_sale, TicketStatus.BLOCKED, now, block_reason=reason
        )

    # --- the sweeps ----------------------------------------------------------------------------------------
    async def expire_listings(self, now: datetime) -> list[int]:
        """Tickets on sale whose event has started -> expired; the ids this call expired."""
        due = (
            select(Ticket.id)
            .where(Ticket.status == TicketStatus.ACTIVE, Ticket.event_at <= now)
            .with_for_update(skip_locked=True)
        )
        return await moved_tickets(self.session, Ticket.id.in_(due), [TicketStatus.ACTIVE], TicketStatus.EXPIRED, now)

    async def reopen(self, ticket_ids: Sequence[int], now: datetime) -> list[int]:
        """Reserved tickets among these -> back on sale; the ids this call reopened. A ticket is reserved by its one
        pending order, so only the transaction that ended that order reopens the ticket."""
        if not ticket_ids:
            return []
        return await moved_tickets(
            self.session, Ticket.id.in_(ticket_ids), [TicketStatus.RESERVED], TicketStatus.ACTIVE, now
        )

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
