"""Feed page latency at 10K and 1M tickets: keyset pages cost the same at any depth; OFFSET pages do not.

Each size gets a fresh migrated database, bulk-loaded (70 % of tickets on sale, 7 event types, 60 cities with a
skewed popularity, names from a small vocabulary), then timed through `services.feed.load_page` exactly as the bot
calls it (the page query, the probe for a newer page, the sellers' names and sales). For contrast, the same page by
OFFSET at the same depth.

Run: python -m bench.bench_feed [--sizes 10000 1000000] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade_to_head
from db.models import EventType, Ticket, TicketStatus
from db.repo import Repo
from db.repositories.feed import Key
from services.feed import Direction, Filters, PageRef, fold, load_page

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SELLERS = 10_000
CITIES = [524901 + i for i in range(60)]  # ids only: the feed filters by id
WORDS = ["Сплин", "Ария", "Queen", "tribute", "Гамлет", "Щелкунчик", "Зенит", "ЦСКА", "Stand-up", "Дюна", "Jazz",
         "Фестиваль", "Night", "Симфония", "Би-2", "Ёлка", "Oxxxymiron", "Баста", "Ленинград", "Чайф"]  # fmt: skip
RARE_WORD = "Уникальныйспектакль"
REPEAT = 200


TICKET_COLUMNS = (
    "id", "seller_id", "event_name", "event_name_folded", "event_type", "city_id", "city_name", "city_tz", "venue",
    "event_at", "face_value", "price", "currency", "barcode_ciphertext", "barcode_format", "barcode_fingerprint",
    "photo_key", "photo_phash", "status", "created_at", "updated_at", "standing",
)  # fmt: skip
USER_COLUMNS = ("id", "telegram_id", "phone_e164", "full_name", "first_name", "language", "is_banned", "blocked_bot",
                "created_at")  # fmt: skip


def _tickets(count: int, seed: int = 1) -> Iterator[tuple[Any, ...]]:
    """Rows in TICKET_COLUMNS order, streamed: one listing every 30 s, the newest last."""
    rng = random.Random(seed)
    types = [kind.value for kind in EventType]
    gone = [TicketStatus.SOLD.value, TicketStatus.EXPIRED.value, TicketStatus.WITHDRAWN.value]
    for n in range(1, count + 1):
        name = " ".join(rng.sample(WORDS, 2)) if n != count // 2 else RARE_WORD
        created = NOW - timedelta(seconds=(count - n) * 30)
        status = TicketStatus.ACTIVE.value if rng.random() < 0.7 else rng.choice(gone)
        city = CITIES[min(int(rng.paretovariate(1.2)) - 1, len(CITIES) - 1)]
        event_at = NOW + timedelta(days=rng.randint(1, 300))
        yield (n, rng.randint(1, SELLERS), name, fold(name), rng.choice(types), city, f"City {city}", "Europe/Moscow",
               "Hall", event_at, 2000, 2200, "RUB", b"x", "QRCode", f"{n:064x}", f"p{n}", f"{n:016x}", status,
               created, created, False)  # fmt: skip


def _users() -> Iterator[tuple[Any, ...]]:
    for n in range(1, SELLERS + 1):
        yield n, 10**6 + n, f"+7900{n:07d}", f"Seller {n}", f"Seller{n}", "ru", False, False, NOW - timedelta(days=99)


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores an aware datetime in SQLite: naive UTC text with microseconds."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


async def _load_sqlite(path: Path, count: int) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(engine)
    await engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for table, columns, rows in (("users", USER_COLUMNS, _users()), ("tickets", TICKET_COLUMNS, _tickets(count))):
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        connection.executemany(statement, (tuple(map(_sqlite_value, row)) for row in rows))
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


async def _load_postgresql(url: str, count: int) -> None:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table("users", records=_users(), columns=USER_COLUMNS)
        await driver.copy_records_to_table("tickets", records=_tickets(count), columns=TICKET_COLUMNS)
        await connection.commit()
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    await engine.dispose()


async def _time(call: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> str:
    for _ in range(5):
        await call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    p95 = samples[int(0.95 * len(samples))]
    return f"p50 {statistics.median(samples) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms"


async def _bench(engine: AsyncEngine, count: int) -> None:
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        repo = Repo(session)
        on_sale = select(Ticket.created_at, Ticket.id).where(Ticket.status == TicketStatus.ACTIVE)
        ordered = on_sale.order_by(Ticket.created_at.desc(), Ticket.id.desc())
        total = len((await session.execute(on_sale)).all())
        depths = {"page 2": 5, "middle": total // 2, "last page": total - 6}
        keys = {}
        for label, depth in depths.items():
            created_at, ticket_id = (await session.execute(ordered.offset(depth - 1).limit(1))).one()
            keys[label] = Key(created_at, ticket_id)
        print(f"  {count:>9,} tickets, {total:,} on sale")
        none = Filters()
        cases: list[tuple[str, Filters, PageRef]] = [
            ("first page", none, PageRef()),
            *[(f"Next at {label}", none, PageRef(key, Direction.OLDER)) for label, key in keys.items()],
            ("Previous at middle", none, PageRef(keys["middle"], Direction.NEWER)),
            ("type filter, first page", Filters(event_type=EventType.THEATRE), PageRef()),
            ("type filter, Next at middle", Filters(event_type=EventType.THEATRE),
             PageRef(keys["middle"], Direction.OLDER)),
            ("city filter (rare city), first page", Filters(city_id=CITIES[-1]), PageRef()),
            ("type + city filter, first page", Filters(EventType.SPORT, CITIES[0]), PageRef()),
            ("search, common word", Filters(text="сплин"), PageRef()),
            ("search, one match in the middle", Filters(text=RARE_WORD.lower()), PageRef()),
        ]  # fmt: skip
        for label, filters, ref in cases:
            figure = await _time(lambda f=filters, r=ref: load_page(repo, f, r, NOW))
            print(f"    {label:<40} {figure}")
        for label, depth in depths.items():
            query = ordered.where(Ticket.event_at > NOW).offset(depth).limit(5)
            figure = await _time(lambda q=query: session.execute(q), repeat=20 if depth > 1000 else REPEAT)
            print(f"    {'OFFSET at ' + label + ' (for contrast)':<40} {figure}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--postgresql", help="an admin URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for count in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "feed.db"
            started = time.perf_counter()
            await _load_sqlite(path, count)
            print(f"SQLite (loaded in {time.perf_counter() - started:.0f} s)")
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            await _bench(engine, count)
            await engine.dispose()
        if args.postgresql:
            name = f"bench_feed_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgresql, isolation_level="AUTOCOMMIT")
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.postgresql.rsplit("/", 1)[0] + f"/{name}"
            try:
                started = time.perf_counter()
                await _load_postgresql(url, count)
                print(f"PostgreSQL (loaded in {time.perf_counter() - started:.0f} s)")
                engine = create_engine(url)
                await _bench(engine, count)
                await engine.dispose()
            finally:
                async with admin.connect() as connection:
                    await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
