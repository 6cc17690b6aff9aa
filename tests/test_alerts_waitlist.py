"""Saved searches (matching by one statement, never the seller, never twice, at most ten) and the fair waiting list
(three waiters: offered in join order, passed on when unclaimed, then public; Buy honours the claim window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_sessionmaker
from db.models import EventType, GroupMode, Ticket, TicketStatus, User
from db.repo import Repo
from services import alerts, events, groups, waitlist
from services.alerts import AlertSpec
from services.errors import DomainError
from tests.factories import SAINT_PETERSBURG, make_ticket, make_user, make_users
from tests.test_orders_race import in_parallel

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OFFER_MINUTES = 10


async def keyed(repo: Repo, seller: User, **fields: object) -> Ticket:
    ticket = await make_ticket(repo, seller, NOW, **fields)  # type: ignore[arg-type]
    ticket.event_key = events.key_of(ticket)
    await repo.session.flush()
    return ticket


async def test_alerts_match_by_every_criterion_once(repo: Repo) -> None:
    seller, fan, cheap, elsewhere, words, pair = await make_users(repo, NOW, 6)
    await alerts.save(repo, NOW, fan, AlertSpec(event_type=EventType.CONCERT))
    await alerts.save(repo, NOW, fan, AlertSpec(text="сплин"))  # a second match for the same user: told once
    await alerts.save(repo, NOW, cheap, AlertSpec(max_price=1500))
    await alerts.save(repo, NOW, elsewhere, AlertSpec(city_id=SAINT_PETERSBURG[0]))
    await alerts.save(repo, NOW, words, AlertSpec(text="Сплин 100%"))  # every word must be in the name
    await alerts.save(repo, NOW, pair, AlertSpec(text="СПЛИН", seats=2))
    await alerts.save(repo, NOW, seller, AlertSpec(text="сплин"))  # never the seller
    ticket = await keyed(repo, seller, event_name="Сплин", price=2000)
    told = await alerts.to_tell(repo, NOW, ticket)
    assert [u.id for u in told] == [fan.id]
    assert await alerts.to_tell(repo, NOW, ticket) == []  # never twice for one ticket

    second = await keyed(repo, seller, event_name="Сплин", price=1000)
    await groups.create_group(repo, NOW, seller, [ticket.id, second.id], GroupMode.TOGETHER, total_price=2000)
    assert {u.id for u in await alerts.to_tell(repo, NOW, second)} == {fan.id, cheap.id, pair.id}


async def test_alert_limits_listing_and_delete(repo: Repo) -> None:
    user, other = await make_users(repo, NOW, 2)
    with pytest.raises(DomainError) as caught:
        await alerts.save(repo, NOW, user, AlertSpec(text="  !! "))
    assert caught.value.code == "alert-empty"
    saved = [await alerts.save(repo, NOW, user, AlertSpec(text=f"band {n}")) for n in range(alerts.MAX_ALERTS)]
    with pytest.raises(DomainError) as caught:
        await alerts.save(repo, NOW, user, AlertSpec(text="one more"))
    assert caught.value.code == "alert-limit"
    with pytest.raises(DomainError):
        await alerts.delete(repo, other, saved[0].id)
    await alerts.delete(repo, user, saved[0].id)
    assert [a.id for a in await alerts.of_user(repo, user)] == [a.id for a in saved[1:]]


async def test_three_waiters_claim_pass_public(repo: Repo) -> None:
    seller, first, second, third, stranger = await make_users(repo, NOW, 5)
    sample = await keyed(repo, seller)
    key = sample.event_key
    assert key is not None
    sample.status = TicketStatus.SOLD  # the event's only earlier ticket is gone
    await repo.session.flush()
    for waiter in (first, second, third):
        await waitlist.join(repo, NOW, waiter, key)
    await waitlist.join(repo, NOW, first, key)  # joining again keeps the place

    fresh = await keyed(repo, seller)
    released = await waitlist.on_available(repo, NOW, [fresh], OFFER_MINUTES)
    assert [o.user.id for o in released.offers] == [first.id] and released.public == []
    assert await waitlist.may_buy(repo, fresh.id, first, NOW)
    assert not await waitlist.may_buy(repo, fresh.id, stranger, NOW)

    later = NOW + timedelta(minutes=OFFER_MINUTES)
    assert not await waitlist.may_buy(repo, fresh.id, first, later)  # the window closed
    passed = await waitlist.pass_on(repo, later, OFFER_MINUTES)
    assert [o.user.id for o in passed.offers] == [second.id]
    assert (await waitlist.pass_on(repo, later, OFFER_MINUTES)).offers == []  # once

    even_later = later + timedelta(minutes=OFFER_MINUTES)
    assert [o.user.id for o in (await waitlist.pass_on(repo, even_later, OFFER_MINUTES)).offers] == [third.id]
    last = await waitlist.pass_on(repo, even_later + timedelta(minutes=OFFER_MINUTES), OFFER_MINUTES)
    assert last.offers == [] and [t.id for t in last.public] == [fresh.id]
    assert await waitlist.may_buy(repo, fresh.id, stranger, even_later + timedelta(minutes=OFFER_MINUTES))


async def test_claimed_ticket_and_quiet_events(repo: Repo) -> None:
    seller, waiter = await make_users(repo, NOW, 2)
    plenty = [await keyed(repo, seller) for _ in range(2)]
    key = plenty[0].event_key
    assert key is not None
    await waitlist.join(repo, NOW, waiter, key)
    released = await waitlist.on_available(repo, NOW, plenty[:1], OFFER_MINUTES)
    assert released.offers == [] and released.public == plenty[:1]  # more tickets than waiters: public at once

    scarce = await keyed(repo, seller, event_name="Другое")
    assert scarce.event_key is not None
    await waitlist.join(repo, NOW, waiter, scarce.event_key)
    await waitlist.join(repo, NOW, await make_user(repo, NOW), scarce.event_key)
    (offer,) = (await waitlist.on_available(repo, NOW, [scarce], OFFER_MINUTES)).offers
    await waitlist.claimed(repo, scarce, offer.user)
    assert await waitlist.may_buy(repo, scarce.id, seller, NOW)  # the offer ended with the sale
    assert await repo.waitlist.count(scarce.event_key) == 1


async def test_concurrent_runs_tell_each_person_once(engine: AsyncEngine) -> None:
    """Two instances run the alerts for one ticket and the offer sweep at the same moment: nobody is told twice and
    a ticket goes to one waiter."""
    async with create_sessionmaker(engine)() as session:
        repo = Repo(session)
        seller, *fans = await make_users(repo, NOW, 501)
        for fan in fans:
            await alerts.save(repo, NOW, fan, AlertSpec(text="сплин"))
        ticket = await keyed(repo, seller)
        assert ticket.event_key is not None
        for fan in fans[:3]:
            await waitlist.join(repo, NOW, fan, ticket.event_key)
        await waitlist.on_available(repo, NOW, [ticket], OFFER_MINUTES)
        await session.commit()

    told = await in_parallel(engine, [lambda repo: alerts.to_tell(repo, NOW, ticket) for _ in range(2)])
    lists = [r for r in told if isinstance(r, list)]
    assert len(lists) == 2, told
    assert sorted(u.id for users in lists for u in users) == sorted(fan.id for fan in fans)  # 500, each once

    later = NOW + timedelta(minutes=OFFER_MINUTES)
    passed = await in_parallel(engine, [lambda repo: waitlist.pass_on(repo, later, OFFER_MINUTES) for _ in range(2)])
    offers = [o.user.id for r in passed if isinstance(r, waitlist.Released) for o in r.offers]
    assert offers == [fans[1].id], passed
