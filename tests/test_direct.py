"""db.direct: a statement compiled once per dialect and run through the driver gives what SQLAlchemy gives (enums,
aware datetimes, expanded IN lists, literals of the statement), in the session's transaction; and the SQLite WAL is
checkpointed off the event loop (db.engine.WalCheckpointer)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

import db.engine
from db.direct import Direct
from db.engine import CHECKPOINT_EVERY, create_engine, create_sessionmaker
from db.models import EventType, Ticket, TicketStatus
from db.repo import Repo
from tests.conftest import Backend
from tests.factories import make_ticket, make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# A literal of the statement's own (the status), named values, an expanding list, a typed comparison of datetimes.
TICKETS = (
    select(Ticket)
    .where(
        Ticket.status == TicketStatus.ACTIVE,
        Ticket.id.in_(bindparam("ids", expanding=True)),
        Ticket.event_at > bindparam("now", type_=Ticket.__table__.c.event_at.type),
    )
    .order_by(Ticket.id)
)
COUNTS = select(Ticket.event_type, func.count(Ticket.id), func.min(Ticket.created_at)).where(
    Ticket.seller_id == bindparam("seller"), Ticket.status.in_(bindparam("statuses", expanding=True))
).group_by(Ticket.event_type).order_by(Ticket.event_type)  # fmt: skip


async def _market(repo: Repo) -> list[Ticket]:
    seller = await make_user(repo, NOW)
    kinds = [EventType.CONCERT, EventType.THEATRE, EventType.CONCERT, EventType.SPORT]
    tickets = [
        await make_ticket(repo, seller, NOW, event_type=kind, created_at=NOW - timedelta(minutes=n))
        for n, kind in enumerate(kinds)
    ]
    tickets[2].status = TicketStatus.SOLD
    await repo.session.flush()
    return tickets


async def test_rows_and_objects_are_what_sqlalchemy_gives(session: AsyncSession) -> None:
    repo = Repo(session)
    tickets = await _market(repo)
    direct, counts = Direct(TICKETS), Direct(COUNTS)
    for ids in ([t.id for t in tickets], [tickets[1].id], [tickets[0].id, tickets[2].id, 10**9]):
        params = {"ids": ids, "now": NOW}
        expected = [tuple(row) for row in await session.execute(TICKETS.with_only_columns(*Ticket.__table__.c), params)]
        assert expected and await direct.rows(session, params) == expected
        found = await direct.objects(session, Ticket, params)
        assert [(t.id, t.status, t.event_type, t.created_at, t.price) for t in found] == [
            (t.id, t.status, t.event_type, t.created_at, t.price)
            for t in tickets
            if t.id in ids and t.id != tickets[2].id
        ]
        assert all(isinstance(t.event_type, EventType) and t.created_at.tzinfo is not None for t in found)
        assert all(inspect(t).detached for t in found)  # read alone: never flushed, not the session's objects
        for ticket in found:  # as SQLAlchemy's own make_transient_to_detached leaves an instance of the same row
            same = Ticket(**{column.key: getattr(ticket, column.key) for column in inspect(Ticket).column_attrs})
            make_transient_to_detached(same)
            got, want = inspect(ticket), inspect(same)
            assert (got.key, got.unloaded, got.expired_attributes, got.committed_state, got.modified) == (
                want.key, want.unloaded, want.expired_attributes, want.committed_state, want.modified
            )  # fmt: skip
        loaded = await direct.loaded(session, Ticket, params)  # the session's own: the objects it holds
        assert [id(t) for t in loaded] == [id(t) for t in tickets if t.id in {f.id for f in found}]
    statuses = {"seller": tickets[0].seller_id, "statuses": [TicketStatus.ACTIVE, TicketStatus.SOLD]}
    assert await counts.rows(session, statuses) == [tuple(row) for row in await session.execute(COUNTS, statuses)]
    assert await counts.rows(session, statuses) == [  # the types in the order of their names (stored as text)
        (EventType.CONCERT, 2, NOW - timedelta(minutes=2)),
        (EventType.SPORT, 1, NOW - timedelta(minutes=3)),
        (EventType.THEATRE, 1, NOW - timedelta(minutes=1)),
    ]


async def test_reads_see_the_transaction_and_end_with_it(backend: Backend) -> None:
    """Uncommitted rows of the session are seen by its direct reads (same connection, same transaction), by no
    one else; the session's commit or rollback decides as for its own statements."""
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    direct = Direct(TICKETS)
    try:
        async with sessionmaker() as session:
            tickets = await _market(Repo(session))  # flushed, not committed
            ids = {"ids": [t.id for t in tickets], "now": NOW}
            assert len(await direct.rows(session, ids)) == 3
            await session.rollback()
            assert await direct.rows(session, ids) == []  # a fresh transaction on PostgreSQL, as on SQLite
        async with sessionmaker() as session:
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
            await direct.rows(session, ids)  # also after SQLAlchemy began the transaction
            await session.commit()
            async with sessionmaker() as other:
                committed = {"ids": [t.id for t in await _market(Repo(other))], "now": NOW}
                await other.commit()
            # After a commit, what others committed: on PostgreSQL in a new transaction (the session holds a
            # connection again); on SQLite outside any, the connection left in the pool.
            assert len(await direct.rows(session, committed)) == 3
            assert session.in_transaction() == (backend.name == "postgresql")
            assert engine.sync_engine.pool.checkedout() == (backend.name == "postgresql")  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_sqlite_reads_outside_a_transaction_see_only_what_is_committed(backend: Backend) -> None:
    """SQLite: a session that has taken no connection reads on the engine's one connection without taking it, also
    while another session holds it, and never sees another's uncommitted writes: while they are pending, the read
    waits for the connection as any statement would, then sees what was committed. A write always takes it."""
    if backend.name != "sqlite":
        return
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    direct = Direct(TICKETS)
    pool = engine.sync_engine.pool
    try:
        async with sessionmaker() as setup:
            ids = {"ids": [t.id for t in await _market(Repo(setup))], "now": NOW}
            await setup.commit()
        async with sessionmaker() as holder, sessionmaker() as reader:
            await holder.execute(text("SELECT 1"))  # holds the connection, nothing written
            assert pool.checkedout() == 1  # type: ignore[attr-defined]
            assert len(await direct.rows(reader, ids)) == 3  # at once: no checkout
            assert not reader.in_transaction()
            await holder.execute(text("UPDATE tickets SET status = 'withdrawn' WHERE id = :id"), {"id": ids["ids"][0]})
            waiting = asyncio.create_task(direct.rows(reader, ids))
            await asyncio.sleep(0.05)
            assert not waiting.done()  # the holder's write is pending: the read waits for the connection
            await holder.rollback()
            assert len(await asyncio.wait_for(waiting, 5)) == 3  # the rolled back write never seen
            await reader.rollback()
        async with sessionmaker() as writer:
            written = Direct(TICKETS.with_only_columns(Ticket.id))
            await written.rows(writer, ids)
            assert not writer.in_transaction()
            statement = Ticket.__table__.update().where(Ticket.id == bindparam("id")).values(price=1)
            await Direct(statement.returning(Ticket.id)).write(writer, {"id": ids["ids"][0]})
            assert writer.in_transaction() and pool.checkedout() == 1  # type: ignore[attr-defined]
            await writer.rollback()
    finally:
        await engine.dispose()


async def test_sqlite_checkpoints_off_the_loop(backend: Backend) -> None:
    """The bot's connection never checkpoints in its COMMIT; a worker thread copies the WAL into the database
    file after a later commit (read here with the WAL ignored: `immutable`)."""
    if backend.name != "sqlite":
        return
    engine = create_engine(backend.database_url)
    path = backend.database_url.split(":///", 1)[1]

    def in_file() -> int:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as reader:
            return int(reader.execute("SELECT count(*) FROM fsm_states").fetchone()[0])

    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 0
        before = in_file()
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO fsm_states (key, state, data) VALUES ('k', 's', '{}')")
        for _ in range(int(CHECKPOINT_EVERY * 20) + 20):  # the next commit after CHECKPOINT_EVERY starts one
            async with engine.begin() as connection:
                await connection.exec_driver_sql("UPDATE fsm_states SET state = 't' WHERE key = 'zz'")
            if in_file() > before:
                break
            await asyncio.sleep(0.1)
        assert in_file() == before + 1
    finally:
        await engine.dispose()


def _frames(wal: str) -> int:
    """About how many frames (pages) the WAL file has held at most since it was made."""
    return os.path.getsize(wal) // 4_096


async def test_sqlite_wal_starts_over_under_steady_writes(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits back to back, each checkpoint overtaken by one: with a PASSIVE pass alone the WAL seldom starts over
    and grows by every commit's pages (2,013 frames of 2,000 commits run alone, 1,096 beside the suite); past
    RESTART_AFTER frames a RESTART pass makes the next write start it over, so its file stays near that size (145-214
    frames)."""
    if backend.name != "sqlite":
        return
    monkeypatch.setattr(db.engine, "CHECKPOINT_EVERY", 0.0)  # a checkpoint after every commit, once the last ended
    monkeypatch.setattr(db.engine, "RESTART_AFTER", 100)
    engine = create_engine(backend.database_url)
    wal = backend.database_url.split(":///", 1)[1] + "-wal"
    commits = 2_000
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO fsm_states (key, state, data) VALUES ('k', 's', '{}')")
        for number in range(commits):
            async with engine.begin() as connection:
                data = f'\'{{"n": {number}, "pad": "{"x" * 3000}"}}\''  # a page of its own: a frame a commit
                await connection.exec_driver_sql(f"UPDATE fsm_states SET data = {data} WHERE key = 'k'")
        frames = _frames(wal)
    finally:
        await engine.dispose()
    assert frames < commits / 3, f"the WAL grew to {frames} frames in {commits} commits"
