"""The sweeps as the scheduler runs them, telling people through the outbox worker (the notices are queued in each
sweep's transaction), the real notifier and bot against the Bot API emulator: each change announced once, even with
two bot instances sweeping the same PostgreSQL database at the same moment; a user who blocked the bot is skipped
from then on; the scheduler runs everything once at start-up."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.notifier import Notifier
from bot.scheduler import SweepCounts, Sweeper, SweepScheduler
from bot.workers.outbox import OutboxWorker
from db.engine import create_engine, create_sessionmaker
from db.models import LedgerEntry, OrderStatus, Ticket, TicketStatus, TicketStatusChange, User
from db.repo import Repo
from handlers.payments.delivery import RENDERERS
from sandbox.emulator import BotApiEmulator
from services import orders
from services.clock import FrozenClock
from services.crypto import load_secrets
from services.rules import WaitlistRules
from services.storage import LocalPhotoStorage
from tests.conftest import Backend, make_backend
from tests.factories import TOKEN, make_payment_rules, make_settings, make_ticket, make_user

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
SETTINGS = make_payment_rules(reservation_minutes=15, escrow_hours=12)


class Telegram:
    def __init__(self, emu: BotApiEmulator, bot: Bot, data: Path) -> None:
        self.emu, self.bot = emu, bot
        self.secrets = load_secrets(None, None, data)
        self.photos = LocalPhotoStorage(data / "photos", self.secrets)

    def worker(self, sweeper: Sweeper) -> OutboxWorker:
        """The outbox worker of the sweeper's instance (its database, a notifier marking who blocked the bot)."""
        sessionmaker = sweeper.sessionmaker

        async def mark_blocked(telegram_id: int) -> None:
            async with sessionmaker() as session, session.begin():
                await Repo(session).users.mark_blocked_bot(telegram_id)

        notifier = Notifier(self.bot, on_blocked=mark_blocked, per_chat_second=100, per_second=1000)
        return OutboxWorker(sessionmaker, self.bot, notifier, RENDERERS, self.secrets, self.photos)

    async def deliver(self, *sweepers: Sweeper) -> None:
        """The instances' outbox workers side by side, until none finds a row due."""
        workers = [self.worker(sweeper) for sweeper in sweepers]
        while any(await asyncio.gather(*(worker.run_once() for worker in workers))):
            pass

    def meet(self, user: User) -> None:
        """The user has talked to the bot, so the bot may write to them."""
        self.emu.user(user.telegram_id, user.first_name, language_code=user.language).started = True

    def texts_to(self, chat_id: int) -> list[str]:
        return [m.content for m in self.emu.messages_in(chat_id)]

    def sends_to(self, chat_id: int) -> int:
        return sum(1 for call in self.emu.calls_to("sendMessage") if call.params.get("chat_id") == chat_id)


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[Telegram]:
    async with BotApiEmulator(TOKEN) as emu:
        bot = create_bot(make_settings(telegram_api_url=emu.base_url))
        try:
            yield Telegram(emu, bot, tmp_path / "data")
        finally:
            await bot.session.close()


async def status_of(maker: async_sessionmaker[AsyncSession], ticket_id: int) -> TicketStatus:
    """Read in a session of its own: on SQLite the engine has one connection, which the sweeps need too."""
    async with maker() as session:
        return (await session.execute(select(Ticket.status).where(Ticket.id == ticket_id))).scalar_one()


def sweeper_for(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Sweeper:
    return Sweeper(sessionmaker, clock, WaitlistRules(offer_minutes=10))


async def test_sellers_and_buyers_are_told_once_and_blocked_users_are_skipped(
    session: AsyncSession, telegram: Telegram
) -> None:
    repo = Repo(session)
    seller = await make_user(repo, NOW, first_name="Sergei", language="ru")
    gone = await make_user(repo, NOW, first_name="Gleb")
    buyer = await make_user(repo, NOW, first_name="Bella")
    waiter = await make_user(repo, NOW, first_name="Wanda")
    for user in (seller, gone, buyer, waiter):
        telegram.meet(user)
    telegram.emu.user(gone.telegram_id, "Gleb").block_bot()
    tonight = NOW + timedelta(hours=2)
    first = await make_ticket(repo, seller, NOW, event_name="Сплин", event_at=tonight)
    await make_ticket(repo, seller, NOW, event_name="Би-2", event_at=tonight + timedelta(minutes=30))
    await make_ticket(repo, gone, NOW, event_name="Noize MC", event_at=tonight)
    later = await make_ticket(repo, gone, NOW, event_name="Ленинград", event_at=tonight + timedelta(days=1))
    held = await make_ticket(repo, seller, NOW, event_name="Земфира", event_at=NOW + timedelta(days=3))
    await orders.hold(repo, SETTINGS, NOW, buyer, held.id)
    await orders.wait_for(repo, NOW, waiter, held.id)
    await session.commit()
    clock = FrozenClock(NOW)
    maker = async_sessionmaker(session.bind, expire_on_commit=False)
    sweeper = sweeper_for(maker, clock)

    clock.move(timedelta(minutes=15))  # the hold is over
    assert (await sweeper.run_all()).holds == 1
    await telegram.deliver(sweeper)
    assert ["Земфира" in text for text in telegram.texts_to(buyer.telegram_id)] == [True]
    assert ["Земфира" in text for text in telegram.texts_to(waiter.telegram_id)] == [True]

    clock.set(tonight + timedelta(minutes=30))  # both of Sergei's events and Gleb's first have started
    assert (await sweeper.run_all()).listings == 3
    await telegram.deliver(sweeper)
    (told,) = telegram.texts_to(seller.telegram_id)  # one message for both tickets, in Russian
    assert "сняты с продажи" in told and "Сплин" in told and "Би-2" in told
    assert telegram.sends_to(gone.telegram_id) == 1  # refused once (403): marked
    async with maker() as check:
        assert (await check.execute(select(User.blocked_bot).where(User.id == gone.id))).scalar_one()

    clock.set(tonight + timedelta(days=1))
    assert (await sweeper.run_all()).listings == 1
    await telegram.deliver(sweeper)
    assert await status_of(maker, later.id) == TicketStatus.EXPIRED
    assert telegram.sends_to(gone.telegram_id) == 1  # skipped, not knocked on again
    assert await sweeper.run_all() == SweepCounts(holds=0, listings=0, payouts=0, offers=0)  # nothing left to do
    await telegram.deliver(sweeper)
    assert telegram.texts_to(seller.telegram_id) == [told]
    assert await status_of(maker, first.id) == TicketStatus.EXPIRED


@pytest.fixture
def postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend("postgresql", request, tmp_path)


async def test_two_instances_sweeping_at_once_change_and_tell_everything_once(
    postgresql: Backend, telegram: Telegram
) -> None:
    """Two bot instances (two engines, two notifiers) on one PostgreSQL database run every sweep at the same moment,
    round after round: every row changes once, every history and ledger row is written once, everyone is told once."""
    engines = [create_engine(postgresql.database_url) for _ in range(2)]
    try:
        makers = [create_sessionmaker(engine) for engine in engines]
        clock = FrozenClock(NOW)
        async with makers[0]() as session:
            repo = Repo(session)
            sellers = [await make_user(repo, NOW) for _ in range(12)]
            buyers = [await make_user(repo, NOW) for _ in range(12)]
            for user in sellers + buyers:
                telegram.meet(user)
            for n, seller in enumerate(sellers):
                for k in range(4):  # events starting over the next 3 hours
                    await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(minutes=20 + 45 * k + n))
            for n, buyer in enumerate(buyers):
                ticket = await make_ticket(repo, sellers[n], NOW, event_at=NOW + timedelta(hours=4 + n))
                hold = await orders.hold(repo, SETTINGS, NOW, buyer, ticket.id)
                if n % 2:  # half of them pay: their payouts are held until event + 12 h
                    payment = orders.Payment(hold.order.public_id, "XTR", hold.order.amount, f"c{n}")
                    assert (await orders.record_payment(repo, SETTINGS, NOW, buyer, payment)).outcome == "sold"
            await session.commit()
        instances = [sweeper_for(maker, clock) for maker in makers]

        totals: Counter[str] = Counter()
        by_instance: Counter[int] = Counter()
        for _round in range(20):  # 20 rounds of 1.5 hours: every event starts, every payout is due
            clock.move(timedelta(minutes=90))
            for number, counts in enumerate(await asyncio.gather(*(instance.run_all() for instance in instances))):
                totals.update(holds=counts.holds, listings=counts.listings, payouts=counts.payouts)
                by_instance[number] += counts.holds + counts.listings + counts.payouts
            await telegram.deliver(*instances)  # both workers claim from the one outbox at once
        assert totals == {"listings": 12 * 4 + 6, "holds": 6, "payouts": 6}
        assert min(by_instance.values()) > 0, by_instance  # both did part of the work

        async with makers[1]() as session:
            statuses = Counter((await session.execute(select(Ticket.status))).scalars())
            assert statuses == {TicketStatus.EXPIRED: 12 * 4 + 6, TicketStatus.SOLD: 6}
            per_ticket = select(TicketStatusChange.ticket_id, TicketStatusChange.status, func.count())
            rows = (await session.execute(per_ticket.group_by(TicketStatusChange.ticket_id,
                                                              TicketStatusChange.status))).all()  # fmt: skip
            assert {count for _, _, count in rows} == {1}
            releases = select(LedgerEntry.payout_id, func.count()).where(LedgerEntry.kind == "escrow_release")
            assert [count for _, count in (await session.execute(releases.group_by(LedgerEntry.payout_id))).all()] == [
                2
            ] * 6
            assert set((await session.execute(select(User.blocked_bot))).scalars()) == {False}
            pending = await session.scalar(select(func.count()).where(orders.Order.status == OrderStatus.PENDING))
            assert pending == 0
        for seller in sellers:  # each expired ticket announced once (one message per sweep that expired some)
            announced = "\n".join(telegram.texts_to(seller.telegram_id))
            assert announced.count("•") == 4 + (1 if sellers.index(seller) % 2 == 0 else 0)
        texts = [text for seller in sellers for text in telegram.texts_to(seller.telegram_id)]
        assert sum("is yours" in text for text in texts) == 6  # each released payout announced to its seller once
        for n, buyer in enumerate(buyers):
            assert telegram.sends_to(buyer.telegram_id) == (0 if n % 2 else 1)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_the_scheduler_catches_up_at_start_then_sweeps_every_interval(
    session: AsyncSession, telegram: Telegram
) -> None:
    repo = Repo(session)
    seller = await make_user(repo, NOW)
    telegram.meet(seller)
    ticket = await make_ticket(repo, seller, NOW, event_at=NOW - timedelta(hours=6))  # it started during downtime
    await session.commit()
    clock = FrozenClock(NOW)
    maker = async_sessionmaker(session.bind, expire_on_commit=False)
    sweeper = sweeper_for(maker, clock)
    scheduler = SweepScheduler(sweeper, interval_seconds=1)
    worker = telegram.worker(sweeper)
    worker.start()
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) >= {"expire_holds", "expire_listings", "release_escrow"}
        assert all(jobs[name].trigger.interval == timedelta(seconds=1) for name in ("expire_holds", "release_escrow"))
        message = await telegram.emu.user(seller.telegram_id, "Anna").wait_text("off sale", timeout=5)
        assert "Сплин" in message.content
        async with maker() as other, other.begin():
            later = await make_ticket(Repo(other), seller, NOW, event_at=NOW + timedelta(minutes=5))
        clock.move(timedelta(minutes=5))  # the interval job picks it up within a second
        await telegram.emu.user(seller.telegram_id, "Anna").wait_text("off sale", timeout=5)
    finally:
        await scheduler.stop()
        await worker.stop()
    assert not scheduler.scheduler.running
    assert [await status_of(maker, ticket.id), await status_of(maker, later.id)] == [TicketStatus.EXPIRED] * 2
