"""One object per database session that groups the repositories."""

from __future__ import annotations

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
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.history = TicketHistoryRepository(session)
        self.ledger = LedgerRepository(session)
        self.feed = FeedRepository(session)
        self.orders = OrderRepository(session)
        self.payouts = PayoutRepository(session)
        self.audit = AuditRepository(session)
        self.listings = ListingRepository(session)
        self.originality = OriginalityRepository(session)
        self.outbox = OutboxRepository(session)
        self.relay = RelayRepository(session)
        self.events = EventRepository(session)
        self.groups = GroupRepository(session)
        self.alerts = AlertRepository(session)
        self.waitlist = WaitlistRepository(session)
        self.trust = TrustRepository(session)
        self.claims = ClaimRepository(session)

    async def commit(self) -> None:
        await self.session.commit()
