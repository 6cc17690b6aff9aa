"""Listing groups: several tickets of one event listed at once; a together-group's tickets move as one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import rowcount
from db.models import GroupMode, ListingGroup, Ticket, TicketStatus
from db.repositories.listings import moved_tickets
from db.repositories.orders import bare_update


class GroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, group: ListingGroup) -> ListingGroup:
        self.session.add(group)
        await self.session.flush()
        return group

    async def by_id(self, group_id: int) -> ListingGroup | None:
        return await self.session.get(ListingGroup, group_id)

    async def tickets(self, group_id: int) -> list[Ticket]:
        query = select(Ticket).where(Ticket.group_id == group_id).order_by(Ticket.id)
        return list((await self.session.execute(query.execution_options(populate_existing=True))).scalars())

    async def join(self, group_id: int, ticket_ids: Sequence[int], seller_id: int) -> int:
        """The seller's ungrouped tickets on sale among these -> in the group; how many joined."""
        statement = bare_update(Ticket).where(
            Ticket.id.in_(ticket_ids),
            Ticket.seller_id == seller_id,
            Ticket.status == TicketStatus.ACTIVE,
            Ticket.group_id.is_(None),
        )
        return rowcount(await self.session.execute(statement.values(group_id=group_id)))

    async def set_price(self, ticket_id: int, price: int) -> None:
        await self.session.execute(bare_update(Ticket).where(Ticket.id == ticket_id).values(price=price))

    async def move_tickets(
        self, group_id: int, before: Sequence[TicketStatus], after: TicketStatus, now: datetime, buyer_id: int | None
    ) -> list[int]:
        """The group's tickets still in one of `before` -> `after` (sold: with the buyer); the ids moved. For a
        hold or a sale from `active` the event must still be ahead."""
        values: dict[str, object] = {"status": after, "updated_at": now}
        conditions = [Ticket.group_id == group_id, Ticket.status.in_(before)]
        if after in (TicketStatus.RESERVED, TicketStatus.SOLD):
            conditions.append(Ticket.event_at > now)
        if after == TicketStatus.SOLD:
            values |= {"buyer_id": buyer_id, "sold_at": now}
        statement = bare_update(Ticket).where(*conditions).values(**values).returning(Ticket.id)
        return sorted((await self.session.execute(statement)).scalars())

    async def together_groups(self, ticket_ids: Sequence[int]) -> list[int]:
        """The together-groups these tickets belong to."""
        if not ticket_ids:
            return []
        query = (
            select(ListingGroup.id)
            .join(Ticket, Ticket.group_id == ListingGroup.id)
            .where(Ticket.id.in_(ticket_ids), ListingGroup.mode == GroupMode.TOGETHER)
            .distinct()
        )
        return sorted((await self.session.execute(query)).scalars())

    async def reopen_groups(self, group_ids: Sequence[int], now: datetime) -> list[int]:
        if not group_ids:
            return []
        condition = Ticket.group_id.in_(group_ids)
        return await moved_tickets(self.session, condition, [TicketStatus.RESERVED], TicketStatus.ACTIVE, now)
