"""Shared fixtures: real databases (a SQLite file, a PostgreSQL database made for this run) and real Redis.

PostgreSQL and Redis are required in CI (CI=true): unreachable means the run fails, never a silent skip.
Locally, tests that need them are skipped with the reason when they are down.

The suite runs in several pytest-xdist workers (the README's command): whatever tests share outside their
`tmp_path` is made per worker here: the PostgreSQL database, the Redis database, the ports handed out. A test
marked `serial` (timing or memory measured) runs with no other test running beside it."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.lazy_types import prebuild
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade_to_head
from db.models import Base
from db.repo import Repo
from tests.factories import BarcodeSample, barcode_samples

WORKER = os.environ.get("PYTEST_XDIST_WORKER") or "gw0"  # "gw0", "gw1", ... under pytest-xdist
WORKER_INDEX = int(WORKER.removeprefix("gw"))


def _worker_redis_url(url: str) -> str:
    """The worker's own Redis database: the URL's number less the worker's index (15, 14, ... by default), so
    that flushing it between tests touches no other worker's data."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) - WORKER_INDEX
    if database < 0:
        raise pytest.UsageError(f"no Redis database left for xdist worker {WORKER} under {url}: use fewer workers")
    return urlunsplit(parts._replace(path=f"/{database}"))


PG_ADMIN_URL = os.environ.get("STROBOSCOPE_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = _worker_redis_url(os.environ.get("STROBOSCOPE_REDIS_URL", "redis://127.0.0.1:6379/15"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Ports for the servers tests start on fixed addresses (webhook instances, a private redis-server): each worker
# hands out its own block below the kernel's ephemeral range (32768 up), so no other worker, and no client socket,
# is given the same one between the test choosing it and its server binding it.
_PORT_BLOCK = 400
_ports = itertools.cycle(range(20_000 + WORKER_INDEX * _PORT_BLOCK, 20_000 + (WORKER_INDEX + 1) * _PORT_BLOCK))
for _ in range(os.getpid() % _PORT_BLOCK):  # two runs side by side start at different places in their block
    next(_ports)


def free_port() -> int:
    """A port of this worker's block that nothing listens on now."""
    for _ in range(_PORT_BLOCK):
        port = next(_ports)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in the block of xdist worker {WORKER}")


# --- tests marked `serial` run alone -------------------------------------------------------------------------
# A readers-writer lock over the run's workers, on two files in a folder the controlling process makes (its
# workers inherit the variable): every test holds the room shared, a serial one holds it alone. A serial test
# waiting holds the turnstile, so the other workers start nothing new meanwhile and it is never starved.
_LOCKS = "STROBOSCOPE_TEST_LOCKS"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and _LOCKS not in os.environ:
        os.environ[_LOCKS] = tempfile.mkdtemp(prefix="stroboscope-test-locks-")
        config.add_cleanup(lambda: shutil.rmtree(os.environ.pop(_LOCKS), ignore_errors=True))


@contextlib.contextmanager
def _turn(alone: bool) -> Iterator[None]:
    folder = Path(os.environ[_LOCKS])
    with (folder / "turnstile").open("a") as turnstile, (folder / "room").open("a") as room:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if alone:
            fcntl.flock(room, fcntl.LOCK_EX)
        else:
            fcntl.flock(room, fcntl.LOCK_SH)
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        yield  # closing the files releases the locks


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    with _turn(alone=item.get_closest_marker("serial") is not None):
        return (yield)


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is unreachable: {error!r}"
    if IN_CI:
        pytest.fail(message + " (CI requires it)")
    pytest.skip(message)


async def _create_pg_database() -> str:
    name = f"stroboscope_test_{WORKER}_{uuid.uuid4().hex[:10]}"
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


@pytest.fixture(scope="session", autouse=True)
def _models_built_as_at_start_up() -> None:
    """The Bot API models the bot builds at start-up (`bot.lazy_types.prebuild`, in `build_app`), built once per
    worker here too: a test that makes its own Bot would otherwise time its first call with their build."""
    prebuild()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole run, dropped at the end."""
    try:
        url = asyncio.run(_create_pg_database())
    except Exception as error:  # any failure to reach the server means "unavailable"
        unavailable("PostgreSQL", error)
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
            # feed_version's one row stays (migration 0010): its number only grows.
            names = [table.name for table in Base.metadata.sorted_tables if table.name != "feed_version"]
            tables = ", ".join(f'"{name}"' for name in names)
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def _flush_redis(url: str) -> None:
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
        unavailable("Redis", error)
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


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the worker's Redis database, emptied first."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:  # any failure to reach the server means "unavailable"
        unavailable("Redis", error)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def qr_samples() -> list[BarcodeSample]:
    """The corpus's QR photos with their texts, read when a test first asks for them (never at import)."""
    return barcode_samples("qr")
