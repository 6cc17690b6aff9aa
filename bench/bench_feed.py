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
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench._load import (
    CITIES,
    NOW,
    RARE_WORD,
    load_postgresql,
    load_sqlite,
    market,
    scratch_postgresql,
)
from db.engine import create_engine, create_sessionmaker
from db.models import EventType, Ticket, TicketStatus
from db.repo import Repo
from db.repositories.feed import Key
from services.feed import Direction, Filters, PageRef, load_page

REPEAT = 200  # samples of a fast query (p50 under SLOW)
SLOW, SLOW_REPEAT = 0.02, 20  # seconds; samples of a slower one (a full scan at 1M takes ~0.5 s)


async def _time(call: Callable[[], Awaitable[Any]]) -> str:
    warm_up = []
    for _ in range(5):
        started = time.perf_counter()
        await call()
        warm_up.append(time.perf_counter() - started)
    samples = []
    for _ in range(REPEAT if statistics.median(warm_up) < SLOW else SLOW_REPEAT):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    p95 = samples[int(0.95 * len(samples))]
    return f"p50 {statistics.median(samples) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  (n={len(samples)})"


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
            figure = await _time(lambda q=query: session.execute(q))
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
            await load_sqlite(path, market(count))
            print(f"SQLite (loaded in {time.perf_counter() - started:.0f} s)")
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            try:
                await _bench(engine, count)
            finally:
                await engine.dispose()
        if args.postgresql:
            async with scratch_postgresql(args.postgresql, "bench_feed") as url:
                started = time.perf_counter()
                await load_postgresql(url, market(count))
                print(f"PostgreSQL (loaded in {time.perf_counter() - started:.0f} s)")
                engine = create_engine(url)
                try:
                    await _bench(engine, count)
                finally:
                    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
