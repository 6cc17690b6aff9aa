"""A ticket is never sold twice: 50 buyers press Buy at once, 10 payments land at once, one payment is delivered
twice at once. Each party runs in its own session and transaction, as concurrent updates do in the bot."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_sessionmaker
from db.models import Order, OrderStatus, Payout, Refund, TicketStatus, User
from db.repo import Repo
from services import orders
from services.errors import DomainError
from services.orders import Outcome, Payment
from tests.factories import make_payment_rules, make_ticket, make_users

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SETTINGS = make_payment_rules()
T = TypeVar("T")


async def in_parallel(engine: AsyncEngine, jobs: list[Callable[[Repo], Awaitable[T]]]) -> list[T | BaseException]:
    """Each job in its own session and transaction, all started at once; committed when it returns."""
    sessionmaker = create_sessionmaker(engine)
    start = asyncio.Event()

    async def run(job: Callable[[Repo], Awaitable[T]]) -> T:
        await start.wait()
        async with sessionmaker() as session:
            result = await job(Repo(session))
            await session.commit()
            return result

    tasks = [asyncio.create_task(run(job)) for job in jobs]
    await asyncio.sleep(0)
    start.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


async def setup(engine: AsyncEngine, buyers: int) -> tuple[int, list[User]]:
    async with create_sessionmaker(engine)() as session:
        repo = Repo(session)
        seller, *people = await make_users(repo, NOW, buyers + 1)
        ticket = await make_ticket(repo, seller, NOW)
        await session.commit()
        return ticket.id, people


async def counts(engine: AsyncEngine, ticket_id: int) -> tuple[Counter[OrderStatus], int, int, TicketStatus]:
    async with create_sessionmaker(engine)() as session:
        statuses = Counter((await session.execute(select(Order.status).where(Order.ticket_id == ticket_id))).scalars())
        payouts = await session.scalar(select(func.count(Payout.id)))
        refunds = await session.scalar(select(func.count(Refund.id)))
        ticket = await Repo(session).orders.ticket(ticket_id)
        assert ticket is not None
        return statuses, int(payouts or 0), int(refunds or 0), ticket.status


async def test_fifty_buyers_press_buy_at_once(engine: AsyncEngine) -> None:
    ticket_id, buyers = await setup(engine, 50)

    def press(buyer: User) -> Callable[[Repo], Awaitable[orders.Hold]]:
        return lambda repo: orders.hold(repo, SETTINGS, NOW, buyer, ticket_id)

    results = await in_parallel(engine, [press(buyer) for buyer in buyers])
    holds = [r for r in results if isinstance(r, orders.Hold)]
    refusals = Counter(r.code for r in results if isinstance(r, DomainError))
    assert len(holds) == 1
    assert refusals == {"buy-reserved": 49}, results
    statuses, _, _, ticket_status = await counts(engine, ticket_id)
    assert statuses == {OrderStatus.PENDING: 1}
    assert ticket_status == TicketStatus.RESERVED


async def test_ten_payments_land_at_once(engine: AsyncEngine) -> None:
    """Ten buyers each got an invoice in turn (each hold lapsed and the next took the ticket over); the last
    hold lapsed too and was swept. All ten pay at the same moment: one sale, nine refunds."""
    ticket_id, buyers = await setup(engine, 10)
    holds: list[orders.Hold] = []
    at = NOW
    for buyer in buyers:
        (hold,) = await in_parallel(engine, [lambda repo, b=buyer, t=at: orders.hold(repo, SETTINGS, t, b, ticket_id)])
        assert isinstance(hold, orders.Hold)
        holds.append(hold)
        at += timedelta(minutes=SETTINGS.reservation_minutes)

    async def sweep(repo: Repo) -> None:
        await orders.expire_hold(repo, at, ticket_id=ticket_id)

    await in_parallel(engine, [sweep])

    def pay(buyer: User, hold: orders.Hold, n: int) -> Callable[[Repo], Awaitable[orders.PaymentResult]]:
        payment = Payment(hold.order.public_id, hold.charge.currency, hold.charge.total, f"charge-{n}")
        return lambda repo: orders.record_payment(repo, SETTINGS, at, buyer, payment)

    results = await in_parallel(engine, [pay(b, h, n) for n, (b, h) in enumerate(zip(buyers, holds, strict=True))])
    outcomes = Counter(r.outcome for r in results if isinstance(r, orders.PaymentResult))
    assert outcomes == {Outcome.SOLD: 1, Outcome.REFUND: 9}, results
    statuses, payouts, refunds, ticket_status = await counts(engine, ticket_id)
    assert statuses == {OrderStatus.PAID: 1, OrderStatus.REFUNDED: 9}
    assert (payouts, refunds, ticket_status) == (1, 9, TicketStatus.SOLD)


async def test_one_payment_delivered_twice_at_once(engine: AsyncEngine) -> None:
    ticket_id, (buyer,) = await setup(engine, 1)
    (hold,) = await in_parallel(engine, [lambda repo: orders.hold(repo, SETTINGS, NOW, buyer, ticket_id)])
    assert isinstance(hold, orders.Hold)
    payment = Payment(hold.order.public_id, hold.charge.currency, hold.charge.total, "charge-once")
    results = await in_parallel(
        engine, [lambda repo: orders.record_payment(repo, SETTINGS, NOW, buyer, payment) for _ in range(2)]
    )
    outcomes = Counter(r.outcome for r in results if isinstance(r, orders.PaymentResult))
    assert outcomes == {Outcome.SOLD: 1, Outcome.DUPLICATE: 1}, results
    assert (await counts(engine, ticket_id))[1:] == (1, 0, TicketStatus.SOLD)
