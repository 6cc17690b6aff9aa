"""The money path through the real services (services/orders.py) on SQLite and PostgreSQL: the latency of a hold,
a pre-checkout answer and a payment, and two races on one ticket.

The database is the feed's market (bench/_load.py, 100K tickets by default), freshly migrated and bulk-loaded. Each
step runs as the bot runs an update: a session, the current user read by Telegram id (the user middleware), the
service call, COMMIT; it is timed from the session's start to the end of the COMMIT. Stars payments (no provider
token), 15-minute holds.

- latency: for each of 200 tickets on sale, hold -> check_checkout (pre-checkout) -> record_payment, one after the
  other; every payment must sell its ticket.
- race 1: 50 buyers press Buy on one ticket at once, each in its own session (on PostgreSQL its own connection):
  exactly one hold, 49 refusals; meanwhile another buyer's pre-checkout is answered and timed.
- race 2: 10 buyers got an invoice in turn (each hold lapsed and the next took the ticket over), the hold sweep
  ran, then all 10 pay at the same moment: exactly one sale, 9 refunds, one paid order in the database.
Each race is repeated on fresh tickets; "settles" is the time from the start signal until every party committed.

Run: python -m bench.bench_orders [--tickets 100000] [--rounds 10] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench._load import (
    NOW,
    SELLERS,
    load_postgresql,
    load_sqlite,
    market,
    percentiles,
    scratch_postgresql,
    telegram_id,
)
from bot.rules import payment_rules
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.models import Order, OrderStatus, Ticket, TicketStatus, User
from db.repo import Repo
from services import orders, sweeps
from services.errors import DomainError
from services.orders import Outcome, Payment

SETTINGS = payment_rules(
    Settings(_env_file=None, bot_token="123456789:" + "A" * 35, payment_provider_token=None, currency="RUB")  # type: ignore[call-arg]
)
LATENCY_TICKETS = 200
BUYERS = 50
PAYERS = 10
T = TypeVar("T")
Work = Callable[[Repo, User | None], Awaitable[T]]


class Market:
    def __init__(self, engine: AsyncEngine, ticket_ids: list[tuple[int, int]]) -> None:
        self.sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
        self.free = iter(ticket_ids)  # (ticket id, seller id), tickets on sale with the event a month or more away
        self.now = NOW
        self.charges = 0

    def ticket(self) -> tuple[int, int]:
        return next(self.free)

    def charge(self) -> str:
        self.charges += 1
        return f"bench-charge-{self.charges}"

    async def update(self, user_id: int, work: Work[T]) -> tuple[T, float]:
        """`work` as one update of the user: session, current user, work, COMMIT; its result and duration."""
        started = time.perf_counter()
        async with self.sessionmaker() as session:
            repo = Repo(session)
            result = await work(repo, await repo.users.by_telegram_id(telegram_id(user_id)))
            await session.commit()
        return result, time.perf_counter() - started


def buyers_of(seller_id: int, count: int) -> list[int]:
    """`count` users other than the seller."""
    return [(seller_id + n - 1) % SELLERS + 1 for n in range(1, count + 1)]


def hold(market: Market, ticket_id: int) -> Work[orders.Hold]:
    return lambda repo, user: orders.hold(repo, SETTINGS, market.now, _present(user), ticket_id)


def checkout(market: Market, held: orders.Hold) -> Work[Order]:
    order = held.order
    return lambda repo, user: orders.check_checkout(
        repo, market.now, user, order.public_id, order.currency, order.amount
    )


def pay(market: Market, held: orders.Hold) -> Work[orders.PaymentResult]:
    payment = Payment(held.order.public_id, held.order.currency, held.order.amount, market.charge())
    return lambda repo, user: orders.record_payment(repo, SETTINGS, market.now, user, payment)


def _present(user: User | None) -> User:
    assert user is not None
    return user


def _figures(samples: list[float]) -> str:
    p50, p95 = percentiles(samples)
    return f"p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  max {max(samples) * 1000:7.2f} ms  (n={len(samples)})"


async def latency(market: Market) -> None:
    timings: dict[str, list[float]] = {"hold": [], "pre-checkout": [], "payment": []}
    for _ in range(LATENCY_TICKETS):
        ticket_id, seller_id = market.ticket()
        (buyer,) = buyers_of(seller_id, 1)
        held, took = await market.update(buyer, hold(market, ticket_id))
        timings["hold"].append(took)
        _, took = await market.update(buyer, checkout(market, held))
        timings["pre-checkout"].append(took)
        result, took = await market.update(buyer, pay(market, held))
        timings["payment"].append(took)
        assert result.outcome == Outcome.SOLD, result
    for label, samples in timings.items():
        print(f"    {label:<14} {_figures(samples)}")


async def at_once(
    market: Market, parties: list[tuple[int, Work[Any]]]
) -> tuple[list[tuple[Any, float] | BaseException], float]:
    """All parties' updates started together: each one's (result, duration) or exception, and the time until all
    committed."""
    start = asyncio.Event()

    async def run(user_id: int, work: Work[Any]) -> tuple[Any, float]:
        await start.wait()
        return await market.update(user_id, work)

    tasks = [asyncio.create_task(run(user_id, work)) for user_id, work in parties]
    await asyncio.sleep(0.05)  # every task waiting on the signal
    started = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return results, time.perf_counter() - started


def _result(outcome: tuple[Any, float] | BaseException) -> Any:
    return outcome if isinstance(outcome, BaseException) else outcome[0]


async def race_holds(market: Market, rounds: int) -> None:
    settles: list[float] = []
    checkouts: list[float] = []
    for n in range(rounds + 1):  # the first round opens the connections: not counted
        ticket_id, seller_id = market.ticket()
        other_ticket, other_seller = market.ticket()
        (other_buyer,) = buyers_of(other_seller, 1)
        other_hold, _ = await market.update(other_buyer, hold(market, other_ticket))
        parties: list[tuple[int, Work[Any]]] = [(b, hold(market, ticket_id)) for b in buyers_of(seller_id, BUYERS)]
        results, settled = await at_once(market, [*parties, (other_buyer, checkout(market, other_hold))])
        *presses, answered = results
        outcomes = Counter(
            "hold" if isinstance(r, orders.Hold) else r.code if isinstance(r, DomainError) else repr(r)
            for r in map(_result, presses)
        )
        assert outcomes == {"hold": 1, "buy-reserved": BUYERS - 1}, outcomes
        assert not isinstance(answered, BaseException) and isinstance(answered[0], Order), answered
        if n:
            settles.append(settled)
            checkouts.append(answered[1])
    p50, p95 = percentiles(settles)
    print(
        f"    race, {BUYERS} buyers press Buy at once: 1 hold + {BUYERS - 1} refusals in each of {rounds} rounds; "
        f"settles p50 {p50:.0f} ms, p95 {p95:.0f} ms; {BUYERS / (p50 / 1000):,.0f} presses/s"
    )
    print(f"    pre-checkout during that race: {_figures(checkouts)}")


async def race_payments(market: Market, rounds: int) -> None:
    settles: list[float] = []
    for _ in range(rounds):
        ticket_id, seller_id = market.ticket()
        buyers = buyers_of(seller_id, PAYERS)
        holds = []
        for buyer in buyers:  # each hold lapses and the next buyer takes the ticket over
            held, _ = await market.update(buyer, hold(market, ticket_id))
            holds.append(held)
            market.now += timedelta(minutes=SETTINGS.reservation_minutes)
        await market.update(seller_id, lambda repo, _user: sweeps.expire_holds(repo, market.now))
        payments = [(b, pay(market, h)) for b, h in zip(buyers, holds, strict=True)]
        results, settled = await at_once(market, payments)
        outcomes = Counter(r.outcome if isinstance(r, orders.PaymentResult) else repr(r) for r in map(_result, results))
        assert outcomes == {Outcome.SOLD: 1, Outcome.REFUND: PAYERS - 1}, outcomes
        async with market.sessionmaker() as session:
            paid = await session.scalar(
                select(func.count()).where(Order.ticket_id == ticket_id, Order.status == OrderStatus.PAID)
            )
            status = await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
        assert (paid, status) == (1, TicketStatus.SOLD), (paid, status)
        settles.append(settled)
    p50, p95 = percentiles(settles)
    print(
        f"    race, {PAYERS} payments at once: 1 sale + {PAYERS - 1} refunds in each of {rounds} rounds; "
        f"settles p50 {p50:.0f} ms, p95 {p95:.0f} ms; {PAYERS / (p50 / 1000):,.0f} payments/s"
    )


async def bench(label: str, engine: AsyncEngine, loaded: float, rounds: int) -> None:
    print(f"{label} (loaded in {loaded:.0f} s)")
    try:
        async with create_sessionmaker(engine)() as session:
            query = (
                select(Ticket.id, Ticket.seller_id)
                .where(Ticket.status == TicketStatus.ACTIVE, Ticket.event_at > NOW + timedelta(days=30))
                .order_by(Ticket.id)
                .limit(LATENCY_TICKETS + 3 * rounds + 2)
            )
            market = Market(engine, [(ticket_id, seller_id) for ticket_id, seller_id in await session.execute(query)])
        await latency(market)
        await race_holds(market, rounds)
        await race_payments(market, rounds)
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10, help="times each race is run")
    parser.add_argument("--postgresql", help="an admin URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"{args.tickets:,} tickets")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.db"
        started = time.perf_counter()
        await load_sqlite(path, market(args.tickets))
        loaded = time.perf_counter() - started
        await bench("SQLite (one shared connection)", create_engine(f"sqlite+aiosqlite:///{path}"), loaded, args.rounds)
    if args.postgresql:
        async with scratch_postgresql(args.postgresql, "bench_orders") as url:
            started = time.perf_counter()
            await load_postgresql(url, market(args.tickets))
            loaded = time.perf_counter() - started
            engine = create_engine(url, pool_size=BUYERS + 2, max_overflow=0)  # a connection per party
            await bench(f"PostgreSQL ({BUYERS + 2} connections)", engine, loaded, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
