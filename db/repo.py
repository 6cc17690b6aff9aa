"""One object per database session that groups the repositories."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.alerts import AlertRepository
from db.repositories.audit import AuditRepository
from db.repositories.claims import ClaimRepository
from db.repositories.events import EventRepository
from db.repositories.feed import FeedRepository
from db.repositories.groups import GroupRepository
from db.repositories.history import TicketHistoryRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.listings import ListingRepository
from db.repositories.orders import OrderRepository
from db.repositories.originality import OriginalityRepository
from db.repositories.outbox import OutboxRepository
from db.repositories.payouts import PayoutRepository
from db.repositories.relay import RelayRepository
from db.repositories.trust import TrustRepository
from db.repositories.users import UserRepository
from db.repositories.waitlist import WaitlistRepository


class Repo:
    """The repositories of one session, each built on first use (an update touches two or three of them)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.session)

    @cached_property
    def history(self) -> TicketHistoryRepository:
        return TicketHistoryRepository(self.session)

    @cached_property
    def ledger(self) -> LedgerRepository:
        return LedgerRepository(self.session)

    @cached_property
    def feed(self) -> FeedRepository:
        return FeedRepository(self.session)

    @cached_property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.session)

    @cached_property
    def payouts(self) -> PayoutRepository:
        return PayoutRepository(self.session)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session)

    @cached_property
    def listings(self) -> ListingRepository:
        return ListingRepository(self.session)

    @cached_property
    def originality(self) -> OriginalityRepository:
        return OriginalityRepository(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @cached_property
    def relay(self) -> RelayRepository:
        return RelayRepository(self.session)

    @cached_property
    def events(self) -> EventRepository:
        return EventRepository(self.session)

    @cached_property
    def groups(self) -> GroupRepository:
        return GroupRepository(self.session)

    @cached_property
    def alerts(self) -> AlertRepository:
        return AlertRepository(self.session)

    @cached_property
    def waitlist(self) -> WaitlistRepository:
        return WaitlistRepository(self.session)

    @cached_property
    def trust(self) -> TrustRepository:
        return TrustRepository(self.session)

    @cached_property
    def claims(self) -> ClaimRepository:
        return ClaimRepository(self.session)

    async def commit(self) -> None:
        await self.session.commit()
