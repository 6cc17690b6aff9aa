"""What admins read and change: marketplace figures, expired tickets (keyset pages), a ticket's card, moderation
(block / unblock, bans) and the audit log of admin actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.engine import rowcount
from db.models import (
    AuditEntry,
    Dispute,
    DisputeStatus,
    Order,
    OrderStatus,
    Payout,
    PayoutStatus,
    Ticket,
    TicketStatus,
    User,
)
from db.repositories.orders import bare_update


@dataclass(frozen=True)
class Sales:
    """Paid orders in a period: how many, and the money taken per currency (smallest unit)."""

    count: int
    turnover: dict[str, int]


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


class AdminRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- figures -------------------------------------------------------------------------------------------
    async def count_users(self) -> int:
        return int((await self.session.execute(select(func.count(User.id)))).scalar_one())

    async def count_on_sale(self, now: datetime) -> int:
        query = select(func.count(Ticket.id)).where(Ticket.status == TicketStatus.ACTIVE, Ticket.event_at > now)
        return int((await self.session.execute(query)).scalar_one())

    async def sales(self, since: datetime | None) -> Sales:
        """Orders paid since `since` (ever, when None) and still paid (not refunded)."""
        conditions: list[ColumnElement[bool]] = [Order.status == OrderStatus.PAID]
        if since is not None:
            conditions.append(Order.paid_at >= since)
        query = select(Order.currency, func.count(Order.id), func.sum(Order.amount)).where(*conditions)
        rows = (await self.session.execute(query.group_by(Order.currency).order_by(Order.currency))).all()
        return Sales(sum(int(count) for _, count, _ in rows), {currency: int(total) for currency, _, total in rows})

    async def count_open_disputes(self) -> int:
        query = select(func.count(Dispute.id)).where(Dispute.status == DisputeStatus.OPEN)
        return int((await self.session.execute(query)).scalar_one())

    async def payouts_due(self) -> Sales:
        """Released payouts waiting to be paid through the gateway: how many, and the money per currency."""
        query = (
            select(Payout.currency, func.count(Payout.id), func.sum(Payout.amount))
            .where(Payout.status == PayoutStatus.RELEASED)
            .group_by(Payout.currency)
            .order_by(Payout.currency)
        )
        rows = (await self.session.execute(query)).all()
        return Sales(sum(int(count) for _, count, _ in rows), {currency: int(total) for currency, _, total in rows})

    # --- expired tickets -----------------------------------------------------------------------------------
    @staticmethod
    def _edge(key: OutdatedKey) -> ColumnElement[Any]:
        event_at = bindparam(None, key.event_at, type_=Ticket.__table__.c.event_at.type)
        return tuple_(event_at, literal(key.ticket_id))

    async def outdated_after(self, key: OutdatedKey | None, limit: int) -> list[Ticket]:
        """Expired tickets after `key` (from the top when None), latest event first: one range scan of
        ix_tickets_status_event_at from the page's edge."""
        conditions: list[ColumnElement[bool]] = [Ticket.status == TicketStatus.EXPIRED]
        if key is not None:
            conditions.append(tuple_(Ticket.event_at, Ticket.id) < self._edge(key))
        query = select(Ticket).where(*conditions).order_by(Ticket.event_at.desc(), Ticket.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def outdated_before(self, key: OutdatedKey, limit: int) -> list[Ticket]:
        """Expired tickets before `key` (the previous page), latest event first."""
        query = (
            select(Ticket)
            .where(Ticket.status == TicketStatus.EXPIRED, tuple_(Ticket.event_at, Ticket.id) > self._edge(key))
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

    # --- a ticket ------------------------------------------------------------------------------------------
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

    async def pending_order_of(self, ticket_id: int) -> Order | None:
        query = select(Order).where(Order.ticket_id == ticket_id, Order.status == OrderStatus.PENDING)
        return (await self.session.execute(query.execution_options(populate_existing=True))).scalars().first()

    async def move_ticket(
        self, ticket_id: int, before: Sequence[TicketStatus], after: TicketStatus, now: datetime, reason: str | None
    ) -> bool:
        """Ticket -> `after` (with the block reason, None to clear it) if its status is one of `before`."""
        statement = (
            bare_update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status.in_(before))
            .values(status=after, block_reason=reason, updated_at=now)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def cancel_order(self, order_id: int) -> bool:
        statement = (
            bare_update(Order)
            .where(Order.id == order_id, Order.status == OrderStatus.PENDING)
            .values(status=OrderStatus.CANCELLED)
        )
        return rowcount(await self.session.execute(statement)) == 1

    # --- bans ----------------------------------------------------------------------------------------------
    async def user(self, user_id: int) -> User | None:
        """The account as it is now in the database."""
        return await self.session.get(User, user_id, populate_existing=True)

    async def set_banned(self, user_id: int, banned: bool) -> bool:
        """True when the flag changed (a second ban of the same user changes nothing)."""
        statement = bare_update(User).where(User.id == user_id, User.is_banned.is_(not banned)).values(is_banned=banned)
        return rowcount(await self.session.execute(statement)) == 1

    async def cancel_orders_of(self, user_id: int) -> list[tuple[int, int, int]]:
        """Pending orders the user placed as a buyer, or on the user's tickets -> cancelled, in one statement;
        (order id, ticket id, buyer id) of those this call cancelled."""
        own_tickets = select(Ticket.id).where(Ticket.seller_id == user_id).scalar_subquery()
        statement = (
            bare_update(Order)
            .where(
                Order.status == OrderStatus.PENDING,
                or_(Order.buyer_id == user_id, Order.ticket_id.in_(own_tickets)),
            )
            .values(status=OrderStatus.CANCELLED)
            .returning(Order.id, Order.ticket_id, Order.buyer_id)
        )
        return sorted(tuple(row) for row in await self.session.execute(statement))  # type: ignore[misc]

    async def block_listings_of(self, user_id: int, now: datetime, reason: str) -> list[int]:
        """The user's tickets on sale or reserved -> blocked, in one statement; the ids this call blocked."""
        statement = (
            bare_update(Ticket)
            .where(
                Ticket.seller_id == user_id,
                Ticket.status.in_([TicketStatus.ACTIVE, TicketStatus.RESERVED]),
            )
            .values(status=TicketStatus.BLOCKED, block_reason=reason, updated_at=now)
            .returning(Ticket.id)
        )
        return sorted((await self.session.execute(statement)).scalars())

    # --- audit ---------------------------------------------------------------------------------------------
    async def audit(
        self, admin_telegram_id: int, action: str, target_type: str, target_id: int, at: datetime, reason: str | None
    ) -> None:
        await self.session.execute(
            insert(AuditEntry).values(
                admin_telegram_id=admin_telegram_id,
                action=action,
                target_type=target_type,
                target_id=target_id,
                reason=reason,
                at=at,
            )
        )

    async def audit_of(self, targets: Sequence[tuple[str, int]], limit: int) -> list[AuditEntry]:
        """The latest audit entries about these targets, oldest first."""
        if not targets:
            return []
        query = (
            select(AuditEntry)
            .where(or_(*(and_(AuditEntry.target_type == kind, AuditEntry.target_id == id_) for kind, id_ in targets)))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        return list(reversed((await self.session.execute(query)).scalars().all()))
