"""Tickets listed together: grouping rules, a together-group held, sold, refunded, cancelled, lapsed and withdrawn
whole through the one order flow (services.orders), and 20 racing buyers of a 2-seat group on both backends (one
order paid, both seats to the same buyer, nobody with one seat)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_sessionmaker
from db.models import GroupMode, Order, OrderStatus, Refund, Ticket, TicketStatus, User
from db.repo import Repo
from services import events, groups, listings, orders, sweeps, waitlist
from services.barcode_values import Barcode
from services.draft import Draft, ExtraSeat, SealedBarcode, SeatStep
from services.errors import DomainError
from services.orders import Outcome, Payment, PaymentResult
from services.seats import Seat
from tests.factories import make_listing_rules, make_payment_rules, make_ticket, make_user, make_users
from tests.test_listings import SECRETS, photo
from tests.test_listings import draft as listing_draft
from tests.test_orders_race import in_parallel

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RULES = make_payment_rules()
LISTING_RULES = make_listing_rules()
HOLD = RULES.hold_time
OFFER_MINUTES = 10


def payment_for(hold: orders.Hold, charge_id: str) -> Payment:
    return Payment(hold.order.public_id, hold.charge.currency, hold.charge.total, charge_id)


async def event_tickets(repo: Repo, seller: User, count: int, **fields: object) -> list[Ticket]:
    tickets = [await make_ticket(repo, seller, NOW, **fields) for _ in range(count)]  # type: ignore[arg-type]
    for ticket in tickets:
        ticket.event_key = events.key_of(ticket)
    await repo.session.flush()
    return tickets


async def test_grouping_rules(repo: Repo) -> None:
    seller, other = await make_users(repo, NOW, 2)
    pair = await event_tickets(repo, seller, 2, price=1000)
    elsewhere = (await event_tickets(repo, seller, 1, event_name="Другое"))[0]
    foreign = (await event_tickets(repo, other, 1))[0]

    async def refused(code: str, ids: list[int], **kw: object) -> None:
        with pytest.raises(DomainError) as caught:
            await groups.create_group(repo, NOW, seller, ids, GroupMode.TOGETHER, **kw)  # type: ignore[arg-type]
        assert caught.value.code == code

    ids = [t.id for t in pair]
    await refused("group-size", ids[:1], total_price=1000)
    await refused("group-event", [*ids, elsewhere.id], total_price=1000)
    await refused("group-tickets", [*ids, foreign.id], total_price=1000)
    await refused("group-price", ids, total_price=2001)  # over the face values with no markup allowed
    group = await groups.create_group(repo, NOW, seller, ids, GroupMode.TOGETHER, total_price=1999)
    unit = await groups.unit_of(repo, ids[1])
    assert unit is not None and unit.group_id == group.id and unit.lead.id == ids[0] and unit.price == 1999
    await refused("group-tickets", ids, total_price=1000)  # grouped already
    pair[0].seat_number, pair[1].seat_number = "10", "9"
    assert groups.seat_span(unit.tickets) == groups.SeatSpan("Партер", "5", "9", "10")


async def together_pair(repo: Repo) -> tuple[list[int], User, User]:
    seller, buyer = await make_users(repo, NOW, 2)
    pair = await event_tickets(repo, seller, 2)
    await groups.create_group(repo, NOW, seller, [t.id for t in pair], GroupMode.TOGETHER, total_price=3000)
    return [t.id for t in pair], seller, buyer


async def statuses(repo: Repo, ids: list[int]) -> list[TicketStatus]:
    return [(await repo.orders.ticket(ticket_id)).status for ticket_id in ids]  # type: ignore[union-attr]


async def test_hold_pay_and_refund_whole(repo: Repo) -> None:
    ids, _seller, buyer = await together_pair(repo)
    hold = await orders.hold(repo, RULES, NOW, buyer, ids[1])
    assert hold.order.ticket_id == ids[0] and [t.id for t in hold.tickets] == ids
    assert hold.charge == orders.charge_for(await groups.unit_of(repo, ids[0]), RULES)  # type: ignore[arg-type]
    assert await statuses(repo, ids) == [TicketStatus.RESERVED] * 2
    assert (await orders.hold(repo, RULES, NOW, buyer, ids[0])).new is False  # either seat: the same hold
    payment = payment_for(hold, "charge-1")
    result = await orders.record_payment(repo, RULES, NOW, buyer, payment)
    assert result.outcome == Outcome.SOLD and result.payout is not None and result.payout.amount == 3000_00  # kopecks
    assert await statuses(repo, ids) == [TicketStatus.SOLD] * 2
    assert {(await repo.orders.ticket(i)).buyer_id for i in ids} == {buyer.id}  # type: ignore[union-attr]
    again = await orders.record_payment(repo, RULES, NOW, buyer, payment)
    assert again.outcome == Outcome.DUPLICATE


async def test_any_ticket_gone_refunds_the_whole_payment(repo: Repo) -> None:
    ids, _seller, buyer = await together_pair(repo)
    hold = await orders.hold(repo, RULES, NOW, buyer, ids[0])
    await repo.orders.move_ticket(ids[1], TicketStatus.RESERVED, TicketStatus.BLOCKED, NOW)  # an admin blocked one
    payment = payment_for(hold, "charge-2")
    result = await orders.record_payment(repo, RULES, NOW, buyer, payment)
    assert (result.outcome, result.reason) == (Outcome.REFUND, "ticket-gone")
    assert result.refund is not None and result.refund.amount == hold.charge.total
    assert TicketStatus.SOLD not in await statuses(repo, ids)  # neither sold
    assert (await repo.orders.by_id(hold.order.id)).status == OrderStatus.REFUNDED  # type: ignore[union-attr]


async def test_cancel_lapse_and_withdraw_move_the_whole_group(repo: Repo) -> None:
    ids, _seller, buyer = await together_pair(repo)
    hold = await orders.hold(repo, RULES, NOW, buyer, ids[1])
    await orders.cancel_hold(repo, NOW, buyer, hold.order.id)
    assert await statuses(repo, ids) == [TicketStatus.ACTIVE] * 2
    await orders.hold(repo, RULES, NOW, buyer, ids[0])
    swept = await sweeps.expire_holds(repo, NOW + HOLD)
    assert swept.reopened == ids and [h.ticket.id for h in swept.ended] == ids[:1]
    assert await statuses(repo, ids) == [TicketStatus.ACTIVE] * 2
    later = NOW + HOLD
    lapsed = await orders.hold(repo, RULES, later, buyer, ids[1])
    paid = await orders.record_payment(repo, RULES, later + HOLD, buyer, payment_for(lapsed, "late"))
    assert paid.outcome == Outcome.SOLD  # a lapsed hold nobody took: both seats, still together
    assert await statuses(repo, ids) == [TicketStatus.SOLD] * 2
    more, other_seller, _ = await together_pair(repo)
    await listings.withdraw(repo, other_seller, more[1], NOW)
    assert await statuses(repo, more) == [TicketStatus.WITHDRAWN] * 2


async def test_a_waiters_claim_window_holds_off_other_buyers(repo: Repo) -> None:
    ids, _seller, buyer = await together_pair(repo)
    waiter, third = await make_users(repo, NOW, 2)
    lead = await repo.orders.ticket(ids[0])
    assert lead is not None and lead.event_key is not None
    for person in (waiter, buyer, third):  # more waiters than the event's two tickets
        await waitlist.join(repo, NOW, person, lead.event_key)
    await waitlist.on_available(repo, NOW, [lead], OFFER_MINUTES)
    with pytest.raises(DomainError) as caught:
        await orders.hold(repo, RULES, NOW, buyer, ids[1])
    assert caught.value.code == "buy-offered"
    held = await orders.hold(repo, RULES, NOW, waiter, ids[1])
    assert held.order.buyer_id == waiter.id


async def test_a_lapsed_group_hold_reopens_every_seat(repo: Repo) -> None:
    ids, _seller, buyer = await together_pair(repo)
    await orders.hold(repo, RULES, NOW, buyer, ids[0])
    later = NOW + HOLD
    lapsed = await repo.orders.expire_holds(later)
    reopened = await repo.listings.reopen([hold.ticket_id for hold in lapsed], later)
    assert reopened == ids[:1]
    assert await groups.reopen_together(repo, reopened, later) == ids[1:]
    assert await statuses(repo, ids) == [TicketStatus.ACTIVE] * 2


async def test_twenty_buyers_race_for_a_two_seat_group(engine: AsyncEngine) -> None:
    async with create_sessionmaker(engine)() as session:
        repo = Repo(session)
        ids, _seller, _ = await together_pair(repo)
        buyers = await make_users(repo, NOW, 20)
        await session.commit()

    def press(buyer: User, at: datetime):  # type: ignore[no-untyped-def]
        return lambda repo: orders.hold(repo, RULES, at, buyer, ids[1])

    results = await in_parallel(engine, [press(buyer, NOW) for buyer in buyers])
    assert sum(isinstance(r, orders.Hold) for r in results) == 1
    assert Counter(r.code for r in results if isinstance(r, DomainError)) == {"buy-reserved": 19}, results

    # Every buyer gets an invoice in turn (each hold lapses and is swept), then all twenty pay at once.
    holds: list[orders.Hold] = [r for r in results if isinstance(r, orders.Hold)]
    holder = holds[0].order.buyer_id
    at = NOW
    for buyer in [b for b in buyers if b.id != holder]:
        at += HOLD

        async def sweep(repo: Repo, t: datetime = at) -> None:
            await sweeps.expire_holds(repo, t)

        await in_parallel(engine, [sweep])
        (held,) = await in_parallel(engine, [press(buyer, at)])
        assert isinstance(held, orders.Hold), held
        holds.append(held)
    by_buyer = {b.id: b for b in buyers}

    def pay(hold: orders.Hold, n: int):  # type: ignore[no-untyped-def]
        payment = payment_for(hold, f"race-{n}")
        return lambda repo: orders.record_payment(repo, RULES, at, by_buyer[hold.order.buyer_id], payment)

    paid = await in_parallel(engine, [pay(hold, n) for n, hold in enumerate(holds)])
    outcomes = Counter(r.outcome for r in paid if isinstance(r, PaymentResult))
    assert outcomes == {Outcome.SOLD: 1, Outcome.REFUND: 19}, paid
    winner = next(r for r in paid if isinstance(r, PaymentResult) and r.outcome == Outcome.SOLD)
    async with create_sessionmaker(engine)() as session:
        sold = (await session.execute(select(Ticket.status, Ticket.buyer_id).where(Ticket.id.in_(ids)))).all()
        assert set(sold) == {(TicketStatus.SOLD, winner.order.buyer_id)}  # type: ignore[union-attr]
        statuses_of_orders = Counter((await session.execute(select(Order.status))).scalars())
        assert statuses_of_orders == {OrderStatus.PAID: 1, OrderStatus.REFUNDED: 19}
        assert await session.scalar(select(func.count(Refund.id))) == 19


async def test_a_listing_of_more_seats_publishes_all_or_none(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    first = replace(listing_draft("SEAT-12"), event_at=NOW + timedelta(days=30))
    assert first.next_seat_step() is None
    adding = first.with_adding(ExtraSeat())
    assert adding.next_seat_step() == SeatStep.SEAT
    adding = adding.with_adding(ExtraSeat(seat=Seat("A", "5", "13"), seat_done=True))
    assert adding.next_seat_step() == SeatStep.PHOTO
    barcode = SealedBarcode.seal(Barcode("QRCode", "SEAT-13"), SECRETS)
    two = adding.with_adding(replace(adding.extra[0], barcode=barcode, photo_key="1" * 32, photo_phash=photo("13")))
    assert two.adding is None and two.next_seat_step() == SeatStep.MODE
    together = replace(two, mode=GroupMode.TOGETHER)
    assert together.next_seat_step() == SeatStep.TOTAL
    assert Draft.from_data(json.loads(json.dumps(together.to_data()))) == together  # the FSM data round trip

    over = replace(together, total_price=4801)  # the cap: 2 x 2,000 + 20 %
    with pytest.raises(DomainError) as caught:
        await listings.publish_listing(repo, LISTING_RULES, SECRETS, seller, over, NOW)
    assert caught.value.code == "group-price"
    assert (await repo.session.execute(select(func.count(Ticket.id)))).scalar_one() == 0  # none published

    tickets = await listings.publish_listing(
        repo, LISTING_RULES, SECRETS, seller, replace(together, total_price=4800), NOW
    )
    unit = await groups.unit_of(repo, tickets[1].id)
    assert unit is not None and unit.ids == [t.id for t in tickets] and unit.price == 4800
    assert groups.seat_span(unit.tickets) == groups.SeatSpan("A", "5", "12", "13")
