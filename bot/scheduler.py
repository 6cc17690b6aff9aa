"""APScheduler runs the sweeps (services/sweeps.py) every SWEEP_INTERVAL_SECONDS, and all of them once at start-up
so that downtime is caught up. What a sweep owes people (a hold ended, listings expired, a payout released) is
queued in the outbox in the sweep's own transaction (services/sweeps.py) and sent by the outbox worker; the
waiting list's and the alerts' offers are queued the same way.

Each sweep tells only about the rows its own UPDATE changed: with several bot instances, each change is announced
by exactly one of them. Time is the injected clock's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repo import Repo
from services import availability, deliveries, relay, sweeps
from services.availability import Announcement
from services.clock import Clock
from services.rules import WaitlistRules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepCounts:
    holds: int
    listings: int
    payouts: int
    offers: int


class Sweeper:
    """The four sweeps, each in a transaction of its own with the notices it owes."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        waitlist_rules: WaitlistRules,
        *,
        chat_retention_days: int = 90,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.waitlist_rules = waitlist_rules
        self.chat_retention_days = chat_retention_days

    async def run_all(self) -> SweepCounts:
        """Holds first: a ticket freed after its event has started is then expired in the same run."""
        holds = await self.expire_holds()
        listings = await self.expire_listings()
        payouts = await self.release_escrow()
        offers = await self.pass_offers()
        return SweepCounts(holds, listings, payouts, offers)

    async def expire_listings(self) -> int:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            repo = Repo(session)
            tickets = await sweeps.expire_listings(repo, now)
            await session.commit()
        if tickets:
            log.info("sweep: %d listings expired", len(tickets))
        return len(tickets)

    async def expire_holds(self) -> int:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            repo = Repo(session)
            swept = await sweeps.expire_holds(repo, now)
            await deliveries.enqueue_free_again(repo, swept.reopened, now)
            await session.commit()
        if swept.ended:
            log.info("sweep: %d holds expired", len(swept.ended))
        if swept.reopened:
            rules = self.waitlist_rules
            await self._announce(lambda repo: availability.back_on_sale(repo, rules, now, swept.reopened), now)
        return len(swept.ended)

    async def pass_offers(self) -> int:
        """The fourth sweep: waiting-list offers whose window closed unclaimed go to the next waiter, or to the public
        (services.availability)."""
        now, rules = self.clock.now(), self.waitlist_rules
        announcement = await self._announce(lambda repo: availability.pass_on(repo, rules, now), now)
        return len(announcement.offers) + len(announcement.matches)

    async def _announce(self, work: Callable[[Repo], Awaitable[Announcement]], now: datetime) -> Announcement:
        """The offers and alert matches `work` makes, queued in the outbox in the same transaction."""
        async with self.sessionmaker() as session:
            repo = Repo(session)
            announcement = await work(repo)
            await deliveries.enqueue_available(repo, announcement, self.waitlist_rules.offer_minutes, now)
            await session.commit()
        if not announcement.empty:
            log.info("sweep: %d offers, %d alert matches", len(announcement.offers), len(announcement.matches))
        return announcement

    async def release_escrow(self) -> int:
        async with self.sessionmaker() as session:
            repo = Repo(session)
            released = await sweeps.release_escrow(repo, self.clock.now())
            await session.commit()
        if released:
            log.info("sweep: %d payouts released", len(released))
        return len(released)

    async def purge_chats(self) -> int:
        """Chat messages past CHAT_RETENTION_DAYS -> deleted (those an open dispute needs are kept)."""
        async with self.sessionmaker() as session:
            purged = await relay.purge(Repo(session), self.clock.now(), self.chat_retention_days)
            await session.commit()
        if purged:
            log.info("sweep: %d chat messages purged", purged)
        return purged


class SweepScheduler:
    """The AsyncIOScheduler with the sweep jobs. One sweep at a time per process; `stop()` lets a running sweep
    finish (its transaction and notices) rather than cutting it off."""

    def __init__(self, sweeper: Sweeper, interval_seconds: int) -> None:
        self.sweeper = sweeper
        self.interval_seconds = interval_seconds
        self.scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        self._busy = asyncio.Lock()
        self._stopping = False

    def start(self) -> None:
        """The catch-up run now, then each sweep every interval."""
        self.scheduler.add_job(self._guarded(self.sweeper.run_all), id="catch-up", next_run_time=datetime.now(UTC))
        every = IntervalTrigger(seconds=self.interval_seconds, timezone=UTC)
        for name in ("expire_holds", "expire_listings", "release_escrow", "pass_offers"):
            self.scheduler.add_job(self._guarded(getattr(self.sweeper, name)), every, id=name)
        hourly = IntervalTrigger(hours=1, timezone=UTC)
        purge = self._guarded(self.sweeper.purge_chats)
        self.scheduler.add_job(purge, hourly, id="purge_chats", next_run_time=datetime.now(UTC))
        self.scheduler.start()

    def _guarded(self, sweep: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async with self._busy:
                if self._stopping:
                    return
                try:
                    await sweep()
                except Exception:
                    # The transaction was rolled back; the next run finds the same rows due.
                    log.exception("sweep %s failed", getattr(sweep, "__name__", sweep))

        return run

    async def stop(self) -> None:
        if not self.scheduler.running:
            return
        self._stopping = True
        async with self._busy:  # the sweep in progress, if any, finishes
            self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the shutdown runs on the loop's next turn
