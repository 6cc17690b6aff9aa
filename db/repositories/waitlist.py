"""The fair waiting list: an event's waiters in join order, and tickets offered to one waiter at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.direct import Direct
from db.engine import rowcount
from db.models import EventWaiter, Ticket, TicketOffer, TicketStatus, User
from db.repositories.orders import bare_update


class WaitlistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def join(self, event_key: str, user_id: int, now: datetime) -> None:
        query = select(EventWaiter.id).where(EventWaiter.event_key == event_key, EventWaiter.user_id == user_id)
        if await self.session.scalar(query) is not None:
            return
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    insert(EventWaiter).values(event_key=event_key, user_id=user_id, joined_at=now)
                )
        except IntegrityError:  # a double tap racing itself
            pass

    async def leave(self, event_key: str, user_id: int) -> bool:
        result = await self.session.execute(
            delete(EventWaiter).where(EventWaiter.event_key == event_key, EventWaiter.user_id == user_id)
        )
        return rowcount(result) == 1

    async def count(self, event_key: str) -> int:
        query = select(func.count(EventWaiter.id)).where(EventWaiter.event_key == event_key)
        return int(await self.session.scalar(query) or 0)

    async def on_sale(self, event_key: str, now: datetime) -> int:
        query = select(func.count(Ticket.id)).where(
            Ticket.event_key == event_key, Ticket.status == TicketStatus.ACTIVE, Ticket.event_at > now
        )
        return int(await self.session.scalar(query) or 0)

    async def next_waiter(self, ticket: Ticket, now: datetime) -> int | None:
        """The first waiter in join order who was not offered this ticket yet, is not its seller and holds no live
        offer of another ticket."""
        offered = exists().where(TicketOffer.ticket_id == ticket.id, TicketOffer.user_id == EventWaiter.user_id)
        busy = exists().where(
            TicketOffer.user_id == EventWaiter.user_id, TicketOffer.passed.is_(False), TicketOffer.expires_at > now
        )
        query = (
            select(EventWaiter.user_id)
            .join(User, User.id == EventWaiter.user_id)
            .where(
                EventWaiter.event_key == ticket.event_key,
                EventWaiter.user_id != ticket.seller_id,
                User.is_banned.is_(False),
                ~offered,
                ~busy,
            )
            .order_by(EventWaiter.id)
            .limit(1)
        )
        return await self.session.scalar(query)

    async def add_offer(self, ticket_id: int, user_id: int, now: datetime, expires_at: datetime) -> None:
        await self.session.execute(
            insert(TicketOffer).values(
                ticket_id=ticket_id, user_id=user_id, offered_at=now, expires_at=expires_at, passed=False
            )
        )

    async def open_offers(self, ticket_id: int) -> list[TicketOffer]:
        """The ticket's offers not passed yet, as they are now (read alone: db.direct, detached). All the ticket's
        offers are read and the passed ones left here: with `passed` in SQL, SQLite's planner walks every open offer
        through ix_ticket_offers_open instead of the ticket's own."""
        offers = await _OFFERS.objects(self.session, TicketOffer, {"ticket": ticket_id})
        return [offer for offer in offers if not offer.passed]

    async def pass_expired(self, now: datetime) -> list[int]:
        """Unclaimed offers whose window closed -> passed; the tickets of those this call passed."""
        statement = (
            bare_update(TicketOffer)
            .where(TicketOffer.passed.is_(False), TicketOffer.expires_at <= now)
            .values(passed=True)
            .returning(TicketOffer.ticket_id)
        )
        return sorted(set((await self.session.execute(statement)).scalars()))

    async def close_offers(self, ticket_ids: Sequence[int]) -> None:
        """The tickets are sold or gone: their offers end."""
        if ticket_ids:
            await self.session.execute(
                bare_update(TicketOffer)
                .where(TicketOffer.ticket_id.in_(ticket_ids), TicketOffer.passed.is_(False))
                .values(passed=True)
            )

    async def tickets(self, ticket_ids: Sequence[int]) -> list[Ticket]:
        if not ticket_ids:
            return []
        query = select(Ticket).where(Ticket.id.in_(ticket_ids)).order_by(Ticket.id)
        return list((await self.session.execute(query.execution_options(populate_existing=True))).scalars())


_OFFERS = Direct(select(TicketOffer).where(TicketOffer.ticket_id == bindparam("ticket")))
