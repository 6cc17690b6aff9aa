"""What the database benchmarks share: a synthetic market (10 000 sellers, tickets streamed in id order), bulk
loading into a fresh migrated SQLite file (executemany) or PostgreSQL database (COPY), a scratch PostgreSQL database
created and dropped around a run, and percentile figures."""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from db.engine import create_engine
from db.migrate import upgrade_to_head
from db.models import EventType, TicketStatus
from services.events import event_key
from services.feed import fold

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SELLERS = 10_000
CITIES = [524901 + i for i in range(60)]  # ids only: the feed filters by id
WORDS = ["Сплин", "Ария", "Queen", "tribute", "Гамлет", "Щелкунчик", "Зенит", "ЦСКА", "Stand-up", "Дюна", "Jazz",
         "Фестиваль", "Night", "Симфония", "Би-2", "Ёлка", "Oxxxymiron", "Баста", "Ленинград", "Чайф"]  # fmt: skip
RARE_WORD = "Уникальныйспектакль"
PRICE = 2200  # RUB, every ticket

TICKET_COLUMNS = (
    "id", "seller_id", "event_name", "event_name_folded", "event_type", "city_id", "city_name", "city_tz", "venue",
    "event_at", "face_value", "price", "currency", "barcode_ciphertext", "barcode_format", "barcode_fingerprint",
    "photo_key", "photo_phash", "status", "created_at", "updated_at", "standing", "event_key",
)  # fmt: skip
USER_COLUMNS = ("id", "telegram_id", "phone_e164", "full_name", "first_name", "language", "is_banned", "blocked_bot",
                "created_at")  # fmt: skip
ID, SELLER_ID, EVENT_AT, STATUS = (TICKET_COLUMNS.index(c) for c in ("id", "seller_id", "event_at", "status"))


@dataclass(frozen=True)
class Table:
    name: str
    columns: Sequence[str]
    rows: Iterable[tuple[Any, ...]]  # in `columns` order


def tickets(
    count: int, seed: int = 1, status: Mapping[int, TicketStatus] | None = None, now: datetime = NOW
) -> Iterable[tuple[Any, ...]]:
    """Rows in TICKET_COLUMNS order, streamed: one listing every 30 s, the newest last (at `now`); 70 % on sale, the
    rest sold, expired or withdrawn; events 1 to 300 days after `now`; 60 cities with a skewed popularity; names from
    a small vocabulary, RARE_WORD once in the middle; each with its event key, as publish and migration 0007 set it.
    `status` overrides the status of some ids."""
    rng = random.Random(seed)
    types = [kind.value for kind in EventType]
    gone = [TicketStatus.SOLD.value, TicketStatus.EXPIRED.value, TicketStatus.WITHDRAWN.value]
    status = status or {}
    for n in range(1, count + 1):
        name = " ".join(rng.sample(WORDS, 2)) if n != count // 2 else RARE_WORD
        created = now - timedelta(seconds=(count - n) * 30)
        state = TicketStatus.ACTIVE.value if rng.random() < 0.7 else rng.choice(gone)
        city = CITIES[min(int(rng.paretovariate(1.2)) - 1, len(CITIES) - 1)]
        event_at = now + timedelta(seconds=rng.randint(86_400, 300 * 86_400))
        key = event_key(name, city, "Europe/Moscow", event_at)
        yield (n, rng.randint(1, SELLERS), name, fold(name), rng.choice(types), city, f"City {city}", "Europe/Moscow",
               "Hall", event_at, 2000, PRICE, "RUB", b"x", "QRCode", f"{n:064x}", f"p{n}", f"{n:016x}",
               status.get(n, state), created, created, False, key)  # fmt: skip


def telegram_id(user_id: int) -> int:
    return 10**6 + user_id


def users() -> Iterable[tuple[Any, ...]]:
    """The sellers (who also buy), ids 1..SELLERS, in USER_COLUMNS order."""
    for n in range(1, SELLERS + 1):
        yield (n, telegram_id(n), f"+7900{n:07d}", f"Seller {n}", f"Seller{n}", "ru", False, False,
               NOW - timedelta(days=99))  # fmt: skip


def market(count: int) -> list[Table]:
    """The sellers and `count` tickets: the market most benchmarks load."""
    return [Table("users", USER_COLUMNS, users()), Table("tickets", TICKET_COLUMNS, tickets(count))]


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores an aware datetime in SQLite: naive UTC text with microseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


async def load_sqlite(path: Path, tables: Sequence[Table]) -> None:
    """A new migrated SQLite database at `path` holding `tables`, analysed."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(engine)
    await engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for table in tables:
        statement = (
            f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({', '.join('?' for _ in table.columns)})"
        )
        connection.executemany(statement, (tuple(map(_sqlite_value, row)) for row in table.rows))
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


async def load_postgresql(url: str, tables: Sequence[Table]) -> None:
    """The migrated schema in the (empty) PostgreSQL database at `url`, `tables` copied in, sequences moved past the
    loaded ids, analysed."""
    engine = create_engine(url)
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        for table in tables:
            await driver.copy_records_to_table(table.name, records=table.rows, columns=list(table.columns))
            if "id" in table.columns:
                await driver.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                )
        await connection.commit()
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    await engine.dispose()


@asynccontextmanager
async def scratch_postgresql(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """The URL of a new empty database on the server of `admin_url`, dropped afterwards (even if the run fails)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) of timings in seconds, in milliseconds."""
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000
