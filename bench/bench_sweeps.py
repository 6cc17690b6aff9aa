"""The scheduler's sweeps (services/sweeps.py) at 100K and 1M tickets, on SQLite and PostgreSQL.

Each size gets a fresh migrated database, bulk-loaded with the feed's market (bench/_load.py) plus its money: a paid
order and a payout for every sold ticket (1K payouts due, the others held for later or paid out), 1K holds lapsed
within the last minute and 1K live ones on reserved tickets, and an expired order for one ticket in 20.

A sweep is timed as the scheduler runs it (bot/scheduler.py): the service call and the accounts to tell, in a
transaction of its own. Samples are rolled back so that every sample finds the same rows due; the last run is
committed and timed with its COMMIT. Cases:
- nothing due (the every-minute case): each sweep's statements are EXPLAINed and any full scan is reported;
- listings, 1 % of tickets due: `now` moved to the event time of the (count/100)-th ticket on sale;
- holds, 1K lapsed; escrow, 1K payouts due.

Run: python -m bench.bench_sweeps [--sizes 100000 1000000] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench._load import (
    EVENT_AT,
    ID,
    NOW,
    PRICE,
    SELLER_ID,
    SELLERS,
    STATUS,
    TICKET_COLUMNS,
    USER_COLUMNS,
    Table,
    load_postgresql,
    load_sqlite,
    percentiles,
    scratch_postgresql,
    tickets,
    users,
)
from db.engine import create_engine, create_sessionmaker
from db.models import OrderStatus, PayoutStatus, Ticket, TicketStatus
from db.repo import Repo
from services import sweeps

DUE = 1_000  # lapsed holds, payouts due
LIVE_HOLDS = 1_000
QUIET = NOW - timedelta(seconds=61)  # before anything is due
ORDER_COLUMNS = ("id", "public_id", "ticket_id", "buyer_id", "amount", "fee_amount", "currency", "status",
                 "created_at", "expires_at", "paid_at", "telegram_payment_charge_id")  # fmt: skip
PAYOUT_COLUMNS = ("id", "order_id", "seller_id", "amount", "currency", "status", "release_at", "released_at",
                  "paid_at")  # fmt: skip


def _market(count: int) -> list[Table]:
    """Users, tickets (some switched to reserved for the holds), orders and payouts, as described above."""
    rng = random.Random(2)
    active: list[int] = []
    sold: list[tuple[int, int, datetime]] = []  # id, seller, event time
    for row in tickets(count):
        if row[STATUS] == TicketStatus.ACTIVE:
            active.append(row[ID])
        elif row[STATUS] == TicketStatus.SOLD:
            sold.append((row[ID], row[SELLER_ID], row[EVENT_AT]))
    held = rng.sample(active, DUE + LIVE_HOLDS)
    amount = round(PRICE * 0.6)  # in stars
    orders: list[tuple[Any, ...]] = []
    payouts: list[tuple[Any, ...]] = []

    def buyer(seller: int) -> int:
        return seller % SELLERS + 1

    def order(ticket_id: int, seller: int, status: OrderStatus, created: datetime, paid: bool = False) -> None:
        n = len(orders) + 1
        paid_at, charge = (created + timedelta(minutes=5), f"charge-{n}") if paid else (None, None)
        orders.append((n, f"order-{n}", ticket_id, buyer(seller), amount, 0, "XTR", status.value, created,
                       created + timedelta(minutes=15), paid_at, charge))  # fmt: skip

    for ticket_id, seller, event_at in sold:
        order(ticket_id, seller, OrderStatus.PAID, NOW - timedelta(days=rng.randint(1, 60)), paid=True)
        kind = rng.random()
        if len(payouts) < DUE:  # due within the last minute
            status, release_at = PayoutStatus.HELD, NOW - timedelta(seconds=rng.randint(1, 60))
        elif kind < 0.5:
            status, release_at = PayoutStatus.HELD, event_at + timedelta(hours=12)
        else:
            status, release_at = PayoutStatus.PAID, NOW - timedelta(days=rng.randint(1, 30))
        done = release_at if status == PayoutStatus.PAID else None
        payouts.append((len(payouts) + 1, len(orders), seller, amount, "XTR", status.value, release_at, done, done))
    for n, ticket_id in enumerate(held):
        # the first DUE holds lapsed within the last minute, the others run for up to 14 more minutes
        lapse = -rng.randint(1, 60) if n < DUE else rng.randint(60, 840)
        order(ticket_id, rng.randint(1, SELLERS), OrderStatus.PENDING, NOW + timedelta(seconds=lapse - 15 * 60))
    for ticket_id in rng.sample(range(1, count + 1), count // 20):
        order(ticket_id, rng.randint(1, SELLERS), OrderStatus.EXPIRED, NOW - timedelta(days=rng.randint(1, 60)))
    reserved = dict.fromkeys(held, TicketStatus.RESERVED)
    return [
        Table("users", USER_COLUMNS, users()),
        Table("tickets", TICKET_COLUMNS, tickets(count, status=reserved)),
        Table("orders", ORDER_COLUMNS, orders),
        Table("payouts", PAYOUT_COLUMNS, payouts),
    ]


# --- the sweeps as the scheduler runs them -------------------------------------------------------------------
async def _listings(repo: Repo, now: datetime) -> int:
    return len(await sweeps.expire_listings(repo, now))  # the sellers' notices queued in the outbox with it


async def _holds(repo: Repo, now: datetime) -> int:
    return len((await sweeps.expire_holds(repo, now)).ended)  # the buyers' notices queued in the outbox with it


async def _escrow(repo: Repo, now: datetime) -> int:
    return len(await sweeps.release_escrow(repo, now))


Sweep = Callable[[Repo, datetime], Awaitable[int]]
# name, sweep, rows written per item: ticket + history; order + ticket + history; payout + 2 ledger rows
SWEEPS: list[tuple[str, Sweep, int]] = [("listings", _listings, 2), ("holds", _holds, 3), ("escrow", _escrow, 3)]


@dataclass
class Figures:
    items: int
    p50: float
    p95: float
    committed: float  # ms, the last run with its COMMIT


async def _measure(engine: AsyncEngine, sweep: Sweep, now: datetime, samples: int) -> Figures:
    sessionmaker = create_sessionmaker(engine)
    timings: list[float] = []
    items = 0
    for n in range(samples + 1):
        async with sessionmaker() as session:
            started = time.perf_counter()
            items = await sweep(Repo(session), now)
            if n == samples:
                await session.commit()
                return Figures(items, *percentiles(timings), (time.perf_counter() - started) * 1000)
            timings.append(time.perf_counter() - started)
            await session.rollback()
    raise AssertionError


def _rate(items: int, per_item: int, p50: float) -> str:
    return f"{items / p50 * 1000:,.0f} items/s, {items * per_item / p50 * 1000:,.0f} rows/s" if items else "-"


def _print(label: str, figures: Figures, per_item: int) -> None:
    print(
        f"    {label:<34} {figures.items:>6,} items  p50 {figures.p50:8.2f} ms  p95 {figures.p95:8.2f} ms  "
        f"committed {figures.committed:8.2f} ms  {_rate(figures.items, per_item, figures.p50)}"
    )


# --- plans ---------------------------------------------------------------------------------------------------
def _full_scan(backend: str, line: str) -> bool:
    if backend == "sqlite":  # "SCAN tickets" or "SCAN tickets USING COVERING INDEX ..." (a whole index)
        return line.lstrip("|-` ").startswith("SCAN ")
    return "Seq Scan" in line


async def _explain(engine: AsyncEngine, sweep: Sweep, now: datetime) -> list[str]:
    """The statements one run of `sweep` sends (rolled back), each with its plan; full scans marked."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE", "WITH")) and not many:
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with create_sessionmaker(engine)() as session:
            await sweep(Repo(session), now)
            await session.rollback()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    backend = engine.dialect.name
    lines: list[str] = []
    async with engine.connect() as connection:
        for statement, parameters in sent:
            prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
            plan = await connection.exec_driver_sql(prefix + statement, parameters)
            steps = [row[-1] for row in plan]
            lines.append("      " + " ".join(statement.split())[:150])
            for step in steps:
                mark = "  <-- FULL SCAN" if _full_scan(backend, step) else ""
                lines.append(f"        {step[:140]}{mark}")
        await connection.rollback()
    return lines


async def _one_percent(engine: AsyncEngine, count: int) -> datetime:
    """The moment at which count/100 tickets on sale have an event that has started."""
    query = (
        select(Ticket.event_at)
        .where(Ticket.status == TicketStatus.ACTIVE)
        .order_by(Ticket.event_at)
        .offset(count // 100 - 1)
        .limit(1)
    )
    async with create_sessionmaker(engine)() as session:
        moment = await session.scalar(query)
    assert moment is not None
    return moment


async def _bench(engine: AsyncEngine, count: int, explain: bool) -> None:
    async with create_sessionmaker(engine)() as session:
        total = await session.scalar(select(func.count()).where(Ticket.status == TicketStatus.ACTIVE))
    print(f"  {count:>9,} tickets, {total:,} on sale")
    quiet = {name: await _measure(engine, sweep, QUIET, 50) for name, sweep, _ in SWEEPS}
    for (name, _, per_item), figures in zip(SWEEPS, quiet.values(), strict=True):
        _print(f"{name}, nothing due", figures, per_item)
    print(f"    {'all three, nothing due (p50 sum)':<34} {sum(f.p50 for f in quiet.values()):>30.2f} ms")
    if explain:
        for name, sweep, _ in SWEEPS:
            print(f"    plan, {name}, nothing due:")
            print("\n".join(await _explain(engine, sweep, QUIET)))
    if explain:
        for name, sweep, _ in SWEEPS[1:]:
            print(f"    plan, {name}, {DUE:,} due:")
            print("\n".join(await _explain(engine, sweep, NOW)))
    _print(f"holds, {DUE:,} lapsed", await _measure(engine, _holds, NOW, 20), 3)
    _print(f"escrow, {DUE:,} payouts due", await _measure(engine, _escrow, NOW, 20), 3)
    one_percent = await _one_percent(engine, count)
    if explain:
        print("    plan, listings, 1 % due:")
        print("\n".join(await _explain(engine, _listings, one_percent)))
    _print("listings, 1 % due", await _measure(engine, _listings, one_percent, 10), 2)


async def _run(label: str, engine: AsyncEngine, count: int, loaded: float, explain: bool) -> None:
    print(f"{label} (loaded in {loaded:.0f} s)")
    try:
        await _bench(engine, count, explain)
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--postgresql", help="an admin URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-explain", dest="explain", action="store_false", help="skip the query plans")
    args = parser.parse_args()
    for count in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "sweeps.db"
            started = time.perf_counter()
            await load_sqlite(path, _market(count))
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            await _run("SQLite", engine, count, time.perf_counter() - started, args.explain)
        if args.postgresql:
            async with scratch_postgresql(args.postgresql, "bench_sweeps") as url:
                started = time.perf_counter()
                await load_postgresql(url, _market(count))
                await _run("PostgreSQL", create_engine(url), count, time.perf_counter() - started, args.explain)


if __name__ == "__main__":
    asyncio.run(main())
