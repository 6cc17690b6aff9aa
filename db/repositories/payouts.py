"""Payouts (escrow) and disputes. Status changes are conditional UPDATEs that report whether they happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.engine import rowcount
from db.models import (
    Dispute,
    DisputeStatus,
    Order,
    Payout,
    PayoutStatus,
    Ticket,
    User,
)
from db.repositories.orders import Sales, bare_update


@dataclass(frozen=True)
class PayoutLine:
    payout: Payout
    seller: User
    ticket: Ticket


@dataclass(frozen=True)
class DisputeCase:
    dispute: Dispute
    order: Order
    ticket: Ticket
    payout: Payout
    buyer: User
    seller: User


class PayoutRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payout: Payout) -> Payout:
        self.session.add(payout)
        await self.session.flush()
        return payout

    async def by_id(self, payout_id: int) -> Payout | None:
        return await self.session.get(Payout, payout_id, populate_existing=True)

    async def of_order(self, order_id: int) -> Payout | None:
        query = select(Payout).where(Payout.order_id == order_id).execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def move(
        self,
        payout_id: int,
        before: PayoutStatus,
        after: PayoutStatus,
        *,
        due_after: datetime | None = None,
        **values: object,
    ) -> bool:
        """Payout `before` -> `after` (with `values`) if it is still `before` (and, with `due_after`, its release
        time is later than that)."""
        conditions = [Payout.id == payout_id, Payout.status == before]
        if due_after is not None:
            conditions.append(Payout.release_at > due_after)
        result = await self.session.execute(bare_update(Payout).where(*conditions).values(status=after, **values))
        return rowcount(result) == 1

    async def set_reference(self, payout_id: int, reference: str) -> None:
        await self.session.execute(
            bare_update(Payout).where(Payout.id == payout_id).values(gateway_reference=reference)
        )

    async def release_due(self, now: datetime) -> list[Payout]:
        """Held payouts whose release time has come -> released, in one statement; the payouts this call
        released (another instance running the same sweep gets none of them)."""
        statement = (
            bare_update(Payout)
            .where(Payout.status == PayoutStatus.HELD, Payout.release_at <= now)
            .values(status=PayoutStatus.RELEASED, released_at=now)
            .returning(Payout)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return list((await self.session.execute(statement)).scalars())

    async def released(self, limit: int) -> list[PayoutLine]:
        """Released payouts waiting to be paid, oldest release first, with the seller (phone) and ticket."""
        query = (
            select(Payout, User, Ticket)
            .join(User, User.id == Payout.seller_id)
            .join(Order, Order.id == Payout.order_id)
            .join(Ticket, Ticket.id == Order.ticket_id)
            .where(Payout.status == PayoutStatus.RELEASED)
            .order_by(Payout.released_at, Payout.id)
            .limit(limit)
        )
        return [PayoutLine(*row) for row in (await self.session.execute(query)).all()]

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

    # --- disputes ------------------------------------------------------------------------------------------
    async def count_open_disputes(self) -> int:
        query = select(func.count(Dispute.id)).where(Dispute.status == DisputeStatus.OPEN)
        return int((await self.session.execute(query)).scalar_one())

    async def add_dispute(self, dispute: Dispute) -> Dispute:
        self.session.add(dispute)
        await self.session.flush()
        return dispute

    async def dispute_of_order(self, order_id: int) -> Dispute | None:
        return await self.session.scalar(select(Dispute).where(Dispute.order_id == order_id))

    async def set_seller_text(self, dispute_id: int, text: str) -> bool:
        statement = (
            bare_update(Dispute)
            .where(Dispute.id == dispute_id, Dispute.status == DisputeStatus.OPEN)
            .values(seller_text=text)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def settle_dispute(self, dispute_id: int, status: DisputeStatus, now: datetime, admin_id: int) -> bool:
        statement = (
            bare_update(Dispute)
            .where(Dispute.id == dispute_id, Dispute.status == DisputeStatus.OPEN)
            .values(status=status, resolved_at=now, resolved_by=admin_id)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def cases(self, *, dispute_ids: Sequence[int] | None = None, limit: int = 10) -> list[DisputeCase]:
        """Open disputes (or the given ones, whatever their status), oldest first, with everything an admin
        needs to decide."""
        buyer, seller = aliased(User), aliased(User)
        query = (
            select(Dispute, Order, Ticket, Payout, buyer, seller)
            .join(Order, Order.id == Dispute.order_id)
            .join(Ticket, Ticket.id == Order.ticket_id)
            .join(Payout, Payout.order_id == Order.id)
            .join(buyer, buyer.id == Order.buyer_id)
            .join(seller, seller.id == Ticket.seller_id)
            .order_by(Dispute.opened_at, Dispute.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        if dispute_ids is None:
            query = query.where(Dispute.status == DisputeStatus.OPEN)
        else:
            query = query.where(Dispute.id.in_(dispute_ids))
        return [DisputeCase(*row) for row in (await self.session.execute(query)).all()]
