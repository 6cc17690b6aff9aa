"""The PostgreSQL pool (real server): sized from the settings, and a pooled connection the server dropped is pinged
and replaced once it has been idle, while a connection just used is handed out without the ping's round trips."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import database_pool
from bot.settings import Settings
from db.engine import create_engine
from tests.conftest import PG_ADMIN_URL

TOKEN = "123456789:AAtesttesttesttesttesttesttesttest00"


async def _pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(pid: int) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    finally:
        await admin.dispose()


@asynccontextmanager
async def _dropped(url: str, ping_after_idle: float) -> AsyncIterator[tuple[AsyncEngine, int]]:
    """A one-connection pool whose connection (its server pid yielded) the server dropped while it sat in the pool."""
    engine = create_engine(url, ping_after_idle=ping_after_idle, pool_size=1, max_overflow=0)
    try:
        first = await _pid(engine)
        await _terminate(first)
        yield engine, first
    finally:
        await engine.dispose()


async def test_a_dropped_connection_idle_long_enough_is_replaced_on_checkout(pg_database_url: str) -> None:
    async with _dropped(pg_database_url, ping_after_idle=0.0) as (engine, first):
        assert await _pid(engine) != first  # pinged, found dead, replaced: the update never sees it


async def test_a_connection_in_steady_use_is_not_pinged(pg_database_url: str) -> None:
    async with _dropped(pg_database_url, ping_after_idle=3600.0) as (engine, first):
        try:  # used a moment ago: handed out as it is, so the statement meets the dropped connection
            await _pid(engine)
            raise AssertionError("the dropped connection was pinged and replaced")
        except DBAPIError as error:
            assert error.connection_invalidated
        assert await _pid(engine) != first  # and the pool was replaced: the next one works


def test_the_pool_holds_a_connection_per_concurrent_update_and_spares(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, bot_token=TOKEN, database_url="postgresql+asyncpg://bot@db/bot", data_dir=tmp_path,
        updates_concurrency=20, database_pool_spare=6,
    )  # type: ignore[call-arg]  # fmt: skip
    assert database_pool(settings) == {"pool_size": 20, "max_overflow": 6}
    engine = create_engine(settings.database_url, **database_pool(settings))
    assert (engine.pool.size(), engine.pool._max_overflow) == (20, 6)  # type: ignore[attr-defined]
    sqlite = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"})
    assert database_pool(sqlite) == {}  # SQLite: its one shared connection
