"""Engine and sessionmaker from a database URL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import aiosqlite
from sqlalchemy import event, exc
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

WROTE = "wrote"  # session.info flag: something was written since the last commit (the update's commits read it)


class _RunNow:
    """In place of aiosqlite's queue to its worker thread: each call runs at once, on the caller's thread."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Any]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as aiosqlite's thread does
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection with every call made on the event loop's thread instead of a worker thread.

    A statement of the bot's takes 0.05-0.5 ms in SQLite; handing it to a thread and back costs more than that
    (two thread switches and a loop wake-up per call, four calls per statement, and on a busy machine each switch
    waits for a core and the GIL). The cost is that a long statement (a sweep after a long downtime) holds the
    loop for its duration, which with one shared connection held every other update's database work anyway."""

    def __init__(self, database: str) -> None:
        super().__init__(partial(sqlite3.connect, database, check_same_thread=False), iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no worker thread to start

    @property
    def sqlite(self) -> sqlite3.Connection | None:
        """The sqlite3 connection under it; None once closed."""
        return self._connection


CHECKPOINT_EVERY = 1.0  # seconds: the WAL is copied into the database at most this often, off the event loop
RESTART_AFTER = 1_000  # WAL frames (pages) since it last started over: past this, a checkpoint starts it over
RESTART_WAIT_MS = 100  # at most this long for the writer and readers to let the RESTART pass go; else next time
_CHECKPOINTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")


class WalCheckpointer:
    """The bot's SQLite connection never checkpoints its WAL itself (`wal_autocheckpoint=0`): SQLite's automatic
    checkpoint runs inside the COMMIT that fills 1,000 pages, copying them into the database file and syncing it on
    the event loop's thread (10-60 ms at 1M listings, more on a busy disk, for every update waiting meanwhile). After
    a commit, at most once every CHECKPOINT_EVERY seconds, a PASSIVE checkpoint runs on a worker thread over a
    connection of its own instead (sqlite3 releases the GIL while it copies and syncs; it never blocks the writer).

    A PASSIVE checkpoint copies the frames committed before it began, and the WAL starts over from its beginning only
    when a write begins after a checkpoint that copied it all. Under steady writes a commit lands during every
    checkpoint, so the WAL seldom started over: it grew by every commit's pages (~100 KB a Buy, 20-60 MB in a
    benchmark's few seconds), and a COMMIT appending to a WAL grown that long took 2-3x as long. Past RESTART_AFTER
    frames, the PASSIVE pass is followed by a RESTART one: it copies what was committed meanwhile (a few frames),
    holding writers off for that long (2-6 ms measured, the loop's writer waiting in SQLite's busy handler), so the
    next write starts the WAL over. It waits at most RESTART_WAIT_MS for that (a reader of another process holding
    an old snapshot would keep the writers waiting as long): past it, the next checkpoint tries again."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._last = 0.0
        self.running: Future[None] | None = None

    def after_commit(self) -> None:
        now = time.monotonic()
        if now - self._last < CHECKPOINT_EVERY or (self.running is not None and not self.running.done()):
            return
        self._last = now
        self.running = _CHECKPOINTS.submit(self.checkpoint)

    def wait(self) -> None:
        """Until the running checkpoint ends: its connection closed, the last one to close (an engine's dispose)
        leaves the database file whole, as SQLite's last connection checkpoints and removes the WAL."""
        if self.running is not None:
            self.running.exception()

    def checkpoint(self) -> None:
        uri = "file:" + Path(self.database).resolve().as_posix() + "?mode=rw"  # never creates a database
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
            [(_, frames, _)] = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            if frames > RESTART_AFTER:  # writers wait meanwhile, so only briefly for another connection's reader
                connection.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
                connection.execute("PRAGMA wal_checkpoint(RESTART)")


# A pooled PostgreSQL connection idle for longer than this is checked (a ping) before it is handed out again.
PING_AFTER_IDLE = 10.0  # seconds
_IDLE_SINCE = "idle_since"  # connection record info: when the connection went back to the pool (monotonic)


def create_engine(url: str, *, ping_after_idle: float = PING_AFTER_IDLE, **kwargs: Any) -> AsyncEngine:
    """SQLite gets WAL (checkpointed off the event loop: WalCheckpointer), foreign keys and one shared connection
    (writes in one process never collide), driven on the event loop's thread (InlineConnection); PostgreSQL gets a
    pool (`pool_size` and the rest in `kwargs`) whose connections are pinged on checkout only after
    `ping_after_idle` seconds in the pool (`_ping_if_idle`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(url, **kwargs)
        _ping_if_idle(engine, ping_after_idle)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    database = parsed.database or ":memory:"

    def connect() -> InlineConnection:
        connection = shared.connection = InlineConnection(database)
        return connection

    engine = create_async_engine(url, async_creator=connect, pool_size=1, max_overflow=0, pool_timeout=60, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpointer is not None:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    checkpointer = WalCheckpointer(database) if database != ":memory:" else None
    shared = _SHARED[engine.sync_engine] = _Shared(checkpointer)
    if checkpointer is not None:
        event.listen(engine.sync_engine, "commit", lambda _connection: checkpointer.after_commit())
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: checkpointer.wait())
    return engine


@dataclass
class _Shared:
    """A SQLite engine's checkpointer and its one connection, the last one its pool opened."""

    checkpointer: WalCheckpointer | None
    connection: InlineConnection | None = None


_SHARED: WeakKeyDictionary[Engine, _Shared] = WeakKeyDictionary()


def idle_connection(engine: Engine) -> sqlite3.Connection | None:
    """A SQLite engine's one connection while no transaction is open on it (nobody's writes are pending), whether
    or not a session holds it: what a read runs on outside any transaction (db.direct). Under sqlite3's own
    transaction handling, which SQLAlchemy keeps, a SELECT never begins a transaction: a session that has only read
    sees, statement by statement, what is committed, as a read on this connection does. None on PostgreSQL."""
    shared = _SHARED.get(engine)
    connection = shared.connection.sqlite if shared is not None and shared.connection is not None else None
    if connection is None or connection.in_transaction:
        return None
    return connection


@contextmanager
def own_transaction(engine: Engine, connection: sqlite3.Connection) -> Iterator[None]:
    """The statements run on `connection` (idle_connection's) in the block make a transaction of their own,
    committed at its end (rolled back if it raises), then checkpointed as after any commit. The block must not
    await: nothing else may run on the connection meanwhile."""
    with connection:
        yield
    checkpointer = _SHARED[engine].checkpointer
    if checkpointer is not None:
        checkpointer.after_commit()


def _ping_if_idle(engine: AsyncEngine, after: float) -> None:
    """SQLAlchemy's `pool_pre_ping` with a time bound. The plain pre-ping costs three round trips on every checkout
    (asyncpg's ping is BEGIN, an empty statement, ROLLBACK), i.e. on every update, for a connection used a few
    milliseconds before; a connection that sat in the pool for `after` seconds (the server may have restarted or
    dropped it meanwhile) is still pinged, and if the ping fails the whole pool is replaced and a fresh connection
    handed out, as with the pre-ping. A connection that breaks while in steady use fails its statement, and
    SQLAlchemy then replaces the pool the same way."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)  # None: a new connection (info is cleared with the old one)
        if idle_since is None or time.monotonic() - idle_since < after:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.InvalidatePoolError(f"ping after {after:.0f} s idle failed: {error!r}") from error


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE, DELETE or INSERT touched: `execute` is typed as returning any result, a DML one has a
    count."""
    assert isinstance(result, CursorResult)
    return result.rowcount
