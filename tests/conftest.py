"""Shared fixtures: real databases (a SQLite file, a PostgreSQL database made for this run) and real Redis.

PostgreSQL and Redis are required in CI (CI=true): unreachable means the run fails, never a silent skip.
Locally, tests that need them are skipped with the reason when they are down."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade_to_head
from db.models import Base
from db.repo import Repo
from tests.factories import BarcodeSample, barcode_samples

PG_ADMIN_URL = os.environ.get("STROBOSCOPE_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("STROBOSCOPE_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is unreachable: {error!r}"
    if IN_CI:
        pytest.fail(message + " (CI requires it)")
    pytest.skip(message)


async def _create_pg_database() -> str:
    name = f"stroboscope_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    return url


async def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole run, dropped at the end."""
    try:
        url = asyncio.run(_create_pg_database())
    except Exception as error:  # any failure to reach the server means "unavailable"
        _unavailable("PostgreSQL", error)
    yield url
    asyncio.run(_drop_pg_database(url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade_to_head(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return path


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@dataclass(frozen=True)
class Backend:
    """Where a test's data lives: the database URL, and Redis for FSM storage when set."""

    name: str
    database_url: str
    redis_url: str | None = None


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if name == "sqlite":
        path = tmp_path / "stroboscope.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return Backend(name, f"sqlite+aiosqlite:///{path}")
    url = request.getfixturevalue("pg_database_url")
    asyncio.run(_truncate_all(url))
    if name == "postgresql":
        return Backend(name, url)
    try:
        asyncio.run(_flush_redis(REDIS_URL))
    except Exception as error:  # any failure to reach the server means "unavailable"
        _unavailable("Redis", error)
    return Backend(name, url, REDIS_URL)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Every database test runs on a SQLite file and on PostgreSQL."""
    return make_backend(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The bot's storage stacks: SQLite (embedded default), PostgreSQL, PostgreSQL with Redis FSM storage."""
    return make_backend(request.param, request, tmp_path)


@pytest.fixture
async def engine(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(backend.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def repo(session: AsyncSession) -> Repo:
    return Repo(session)


@pytest.fixture(scope="session")
def qr_samples() -> list[BarcodeSample]:
    """The corpus's QR photos with their texts, read when a test first asks for them (never at import)."""
    return barcode_samples("qr")
