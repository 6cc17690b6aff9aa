"""Share codes of tickets, and what buyers may trust: ratings of deals and each seller's record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.direct import Direct
from db.models import Dispute, DisputeStatus, Order, Rating, ShareCode, Ticket, User


@dataclass(frozen=True)
class SellerRecord:
    first_name: str
    sales: int  # paid orders
    ratings: int
    average: float | None  # of the ratings, None with none
    disputes_lost: int  # disputes refunded to the buyer


class TrustRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- share codes ---------------------------------------------------------------------------------------
    async def code_of(self, ticket_id: int) -> str | None:
        return await self.session.scalar(select(ShareCode.code).where(ShareCode.ticket_id == ticket_id))

    async def add_code(self, ticket_id: int, code: str) -> bool:
        """False when the code is taken, or the ticket got its code from a concurrent transaction."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(ShareCode).values(ticket_id=ticket_id, code=code))
        except IntegrityError:
            return False
        return True

    async def ticket_of_code(self, code: str) -> Ticket | None:
        query = select(Ticket).join(ShareCode, ShareCode.ticket_id == Ticket.id).where(ShareCode.code == code)
        return await self.session.scalar(query.execution_options(populate_existing=True))

    # --- ratings -------------------------------------------------------------------------------------------
    async def rating_of(self, order_id: int) -> Rating | None:
        return await self.session.get(Rating, order_id)

    async def add_rating(self, rating: Rating) -> bool:
        """False when the order was rated already (a double tap racing itself included)."""
        try:
            async with self.session.begin_nested():
                self.session.add(rating)
        except IntegrityError:
            return False
        return True

    async def records(self, seller_ids: Sequence[int]) -> dict[int, SellerRecord]:
        """Each seller's record, for a page of cards in one query."""
        if not seller_ids:
            return {}
        rows = await _RECORDS.rows(self.session, {"ids": list(seller_ids)})
        return {
            user_id: SellerRecord(name, int(n_sales), int(n_ratings), float(avg) if avg is not None else None, int(n))
            for user_id, name, n_sales, n_ratings, avg, n in rows
        }


# Built and compiled once (db.direct): each page only binds the ids. The sales are users.completed_sales (kept
# by triggers on orders, migration 0006), not a count of the seller's orders.
_RECORDS = Direct(
    select(
        User.id,
        User.first_name,
        User.completed_sales,
        select(func.count(Rating.order_id)).where(Rating.seller_id == User.id).scalar_subquery(),
        select(func.avg(Rating.stars)).where(Rating.seller_id == User.id).scalar_subquery(),
        select(func.count(Dispute.id))
        .join(Order, Order.id == Dispute.order_id)
        .join(Ticket, Ticket.id == Order.ticket_id)
        .where(Ticket.seller_id == User.id, Dispute.status == DisputeStatus.REFUNDED)
        .scalar_subquery(),
    ).where(User.id.in_(bindparam("ids", expanding=True)))
)
