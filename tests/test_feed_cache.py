"""Feed pages kept in memory (services.kept_pages): the feed's version kept by triggers on every table a page
reads (migration 0010), and a kept page given again only while the version and its events' times allow, on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_sessionmaker
from db.models import FeedVersion, GroupMode, Ticket, TicketStatus, User
from db.repo import Repo
from services import groups
from services.feed import Filters, PageRef
from services.kept_pages import cached_page
from tests.conftest import Backend
from tests.factories import make_ticket, make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TRIGGERS = {"sqlite": 13, "postgresql": 5}  # migration 0010: one per table and event on SQLite, per table on PG


async def version(engine: AsyncEngine) -> int:
    async with create_sessionmaker(engine)() as session:
        return int(await session.scalar(select(FeedVersion.version)) or 0)


async def seed(engine: AsyncEngine, count: int = 3, *, event_at: datetime | None = None) -> list[int]:
    async with create_sessionmaker(engine)() as session:
        repo = Repo(session)
        seller = await make_user(repo, NOW)
        tickets = [await make_ticket(repo, seller, NOW, event_at=event_at) for _ in range(count)]
        await session.commit()
        return [ticket.id for ticket in tickets]


async def first_page(engine: AsyncEngine, now: datetime = NOW):  # type: ignore[no-untyped-def]
    async with create_sessionmaker(engine)() as session:
        return await cached_page(Repo(session), Filters(), PageRef(), now)


async def test_the_triggers_are_there_at_head(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%feed_version%'"
        else:
            query = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_feed_changed' AND tgdeferrable"
        assert await connection.scalar(text(query)) == TRIGGERS[engine.dialect.name]


async def test_what_a_page_shows_moves_the_version_and_nothing_else_does(engine: AsyncEngine) -> None:
    ids = await seed(engine)
    sessions = create_sessionmaker(engine)
    before = await version(engine)
    async with sessions() as session:  # three tickets in one transaction: PostgreSQL counts it once
        await session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(price=2500))
        if engine.dialect.name == "postgresql":  # (SQLite: one connection, one transaction at a time)
            async with sessions() as other:  # not yet committed: nobody sees a change
                assert int(await other.scalar(select(FeedVersion.version)) or 0) == before
        await session.commit()
    after_price = await version(engine)
    assert after_price > before
    if engine.dialect.name == "postgresql":
        assert after_price == before + 1
    async with sessions() as session:  # a column no card shows
        await session.execute(update(User).values(language="ru"))
        await session.commit()
    assert await version(engine) == after_price
    async with sessions() as session:  # the seller's name is on every card
        await session.execute(update(User).values(first_name="Boris"))
        await session.commit()
    assert await version(engine) > after_price


async def test_a_kept_page_is_given_until_the_feed_changes(engine: AsyncEngine) -> None:
    ids = await seed(engine)
    first = await first_page(engine)
    assert [card.ticket.id for card in first.cards] == ids[::-1]
    assert await first_page(engine) is first  # another viewer, the same object: nothing read again
    async with create_sessionmaker(engine)() as session:
        await session.execute(update(Ticket).where(Ticket.id == ids[0]).values(price=1900))
        await session.commit()
    changed = await first_page(engine)
    assert changed is not first
    assert {card.ticket.id: card.ticket.price for card in changed.cards}[ids[0]] == 1900


async def test_a_kept_page_goes_when_an_event_on_it_starts(engine: AsyncEngine) -> None:
    soon = await seed(engine, 1, event_at=NOW + timedelta(hours=1))
    later = await seed(engine, 1, event_at=NOW + timedelta(days=3))
    first = await first_page(engine)
    assert [card.ticket.id for card in first.cards] == later + soon
    assert first.until == NOW + timedelta(hours=1)
    assert await first_page(engine, NOW + timedelta(minutes=59)) is first
    started = await first_page(engine, NOW + timedelta(hours=1))
    assert [card.ticket.id for card in started.cards] == later
    earlier = await first_page(engine, NOW - timedelta(days=1))  # a clock set back: read, not the later page
    assert earlier is not started


async def test_a_page_the_change_did_not_touch_is_read_and_kept_as_it_was(engine: AsyncEngine) -> None:
    """A change elsewhere (a sold ticket's price) grows the version: the page is read again, and as it shows the same
    it stays the object already kept (and drawn); a change on it gives a new one."""
    ids = await seed(engine, 4)
    async with create_sessionmaker(engine)() as session:
        await session.execute(update(Ticket).where(Ticket.id == ids[0]).values(status=TicketStatus.SOLD))
        await session.commit()
    kept = await first_page(engine)
    for change, same in (({"price": 999}, True), ({"status": TicketStatus.ACTIVE}, False)):
        before = await version(engine)
        async with create_sessionmaker(engine)() as session:
            await session.execute(update(Ticket).where(Ticket.id == ids[0]).values(**change))
            await session.commit()
        assert await version(engine) > before
        page = await first_page(engine)
        assert (page is kept) == same and page.kept
    assert len(page.cards) == 4 and len(kept.cards) == 3


async def test_a_transaction_that_wrote_reads_from_the_database(engine: AsyncEngine) -> None:
    ids = await seed(engine)
    kept = await first_page(engine)
    async with create_sessionmaker(engine)() as session:
        repo = Repo(session)
        await session.execute(update(Ticket).where(Ticket.id == ids[0]).values(price=1500))
        assert await repo.feed.version() is None
        mine = await cached_page(repo, Filters(), PageRef(), NOW)
        assert {card.ticket.id: card.ticket.price for card in mine.cards}[ids[0]] == 1500
        assert kept.kept and not mine.kept  # the viewer's own page is drawn for them alone (handlers/feed/pages.py)
        await session.rollback()  # what it read never went into memory; the kept page is still the feed's
    assert await first_page(engine) is kept
    assert {card.ticket.id: card.ticket.price for card in kept.cards}[ids[0]] == 2000


async def test_a_page_with_seats_sold_together_is_kept_whole(engine: AsyncEngine) -> None:
    """Its group's tickets are detached copies too (FeedRepository.together): a rollback in the session that read
    the page leaves the kept page whole for the next viewer; a change to a seat of the group gives a new page."""
    ids = await seed(engine, 2)
    async with create_sessionmaker(engine)() as session:
        repo = Repo(session)
        seller = await repo.users.by_id(int(await session.scalar(select(Ticket.seller_id).limit(1)) or 0))
        assert seller is not None
        await groups.create_group(repo, NOW, seller, ids, GroupMode.TOGETHER, total_price=3000)
        await session.commit()
    async with create_sessionmaker(engine)() as session:
        page = await cached_page(Repo(session), Filters(), PageRef(), NOW)
        await session.rollback()
    assert [len(card.unit) for card in page.cards] == [2] and page.kept
    again = await first_page(engine)
    assert again is page and [ticket.price for ticket in again.cards[0].unit] == [1500, 1500]
    async with create_sessionmaker(engine)() as session:
        await session.execute(update(Ticket).where(Ticket.id == ids[1]).values(price=1600))
        await session.commit()
    changed = await first_page(engine)
    assert changed is not page and [ticket.price for ticket in changed.cards[0].unit] == [1500, 1600]


async def test_another_instance_s_change_shows_on_the_next_view(backend: Backend) -> None:
    """Two bots on one database (the fleet): each keeps its own pages and reads the shared version."""
    one, two = create_engine(backend.database_url), create_engine(backend.database_url)
    try:
        ids = await seed(one)
        kept = await first_page(one)
        assert await first_page(one) is kept
        async with create_sessionmaker(two)() as session:  # sold on the other instance
            await session.execute(update(Ticket).where(Ticket.id == ids[-1]).values(status=TicketStatus.SOLD))
            await session.commit()
        assert [card.ticket.id for card in (await first_page(one)).cards] == ids[-2::-1]
    finally:
        await one.dispose()
        await two.dispose()
