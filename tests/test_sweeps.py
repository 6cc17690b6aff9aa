"""The sweeps' rules on SQLite and PostgreSQL: listings expire at the exact minute their event starts (in the city's
zone), holds run out at their time and free the ticket, escrow releases what isn't disputed; each writes its history
or ledger rows once and a second run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from db.models import LedgerEntry, OrderStatus, PayoutStatus, TicketStatus, TicketStatusChange
from db.repo import Repo
from services import orders, payouts, sweeps
from services.errors import DomainError
from tests.factories import MOSCOW, YEKATERINBURG, make_payment_rules, make_ticket, make_users

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
SETTINGS = make_payment_rules(reservation_minutes=15, escrow_hours=12)
NEW_YORK = (5128581, "New York City", "America/New_York")


async def history(repo: Repo, ticket_id: int) -> list[tuple[TicketStatus, str, str | None]]:
    return [(row.status, row.actor, row.reason) for row in await repo.history.of_ticket(ticket_id)]


@pytest.mark.parametrize("city", [MOSCOW, YEKATERINBURG, NEW_YORK], ids=lambda city: city[2])
async def test_a_listing_expires_at_the_minute_its_event_starts(repo: Repo, city: tuple[int, str, str]) -> None:
    # 19:00 on 28 Nov in the city's own zone: 16:00 UTC in Moscow, 14:00 in Yekaterinburg, 00:00 the next day in NY.
    starts = datetime(2026, 11, 28, 19, 0, tzinfo=ZoneInfo(city[2])).astimezone(UTC)
    seller, other = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW, city=city, event_at=starts)
    later = await make_ticket(repo, other, NOW, city=city, event_at=starts + timedelta(minutes=1))

    assert await sweeps.expire_listings(repo, starts - timedelta(minutes=1)) == []
    assert await sweeps.expire_listings(repo, starts - timedelta(microseconds=1)) == []
    expired = await sweeps.expire_listings(repo, starts)
    assert [(t.id, t.status, t.seller_id) for t in expired] == [(ticket.id, TicketStatus.EXPIRED, seller.id)]
    assert await sweeps.expire_listings(repo, starts) == []  # idempotent
    assert await history(repo, ticket.id) == [(TicketStatus.EXPIRED, "system", sweeps.LISTING_EXPIRED)]
    assert (await repo.orders.ticket(later.id)).status == TicketStatus.ACTIVE  # type: ignore[union-attr]
    assert [t.id for t in await sweeps.expire_listings(repo, starts + timedelta(minutes=1))] == [later.id]


async def test_only_tickets_on_sale_expire(repo: Repo) -> None:
    seller, buyer = await make_users(repo, NOW, 2)
    starts = NOW + timedelta(hours=1)
    statuses = [TicketStatus.SOLD, TicketStatus.WITHDRAWN, TicketStatus.BLOCKED, TicketStatus.EXPIRED]
    for status in statuses:
        await make_ticket(repo, seller, NOW, event_at=starts, status=status)
    reserved = await make_ticket(repo, seller, NOW, event_at=starts)
    await orders.hold(repo, SETTINGS, NOW, buyer, reserved.id)
    assert await sweeps.expire_listings(repo, starts + timedelta(days=1)) == []
    assert await repo.session.scalar(TicketStatusChange.__table__.select().where(
        TicketStatusChange.status == TicketStatus.EXPIRED)) is None  # fmt: skip


async def test_a_hold_runs_out_at_its_time_and_the_ticket_is_back_on_sale(repo: Repo) -> None:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW)
    hold = await orders.hold(repo, SETTINGS, NOW, buyer, ticket.id)
    ends = hold.order.expires_at
    assert ends == NOW + timedelta(minutes=15)

    assert (await sweeps.expire_holds(repo, ends - timedelta(seconds=1))).ended == []
    swept = await sweeps.expire_holds(repo, ends)
    assert [(h.order_id, h.buyer_id, h.ticket.id, h.ticket.status) for h in swept.ended] == [
        (hold.order.id, buyer.id, ticket.id, TicketStatus.ACTIVE)
    ]
    assert swept.reopened == [ticket.id]
    assert (await repo.orders.by_id(hold.order.id)).status == OrderStatus.EXPIRED  # type: ignore[union-attr]
    assert (await sweeps.expire_holds(repo, ends)).ended == []  # idempotent
    assert await history(repo, ticket.id) == [
        (TicketStatus.RESERVED, "buyer", None),
        (TicketStatus.ACTIVE, "system", orders.HOLD_EXPIRED),
    ]
    # The buyer still on the payment screen: Telegram's pre-checkout is refused.
    with pytest.raises(DomainError, match="buy-pay-expired"):
        await orders.check_checkout(repo, ends, buyer, hold.order.public_id, "XTR", hold.order.amount)
    # ... and someone else can buy it now.
    other = (await make_users(repo, NOW, 1))[0]
    assert (await orders.hold(repo, SETTINGS, ends, other, ticket.id)).order.buyer_id == other.id


async def test_a_hold_that_outlives_the_event_frees_a_ticket_the_listing_sweep_then_expires(repo: Repo) -> None:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(minutes=10))
    await orders.hold(repo, SETTINGS, NOW, buyer, ticket.id)
    later = NOW + timedelta(minutes=20)
    swept = await sweeps.expire_holds(repo, later)
    assert [h.ticket.id for h in swept.ended] == [ticket.id] and swept.reopened == []  # no one to tell: it's over
    assert [t.id for t in await sweeps.expire_listings(repo, later)] == [ticket.id]


async def sold_payout(repo: Repo, price: int = 3000) -> tuple[orders.PaymentResult, int]:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(days=2), price=price)
    hold = await orders.hold(repo, SETTINGS, NOW, buyer, ticket.id)
    payment = orders.Payment(hold.order.public_id, "XTR", hold.charge.total, f"charge-{ticket.id}")
    result = await orders.record_payment(repo, SETTINGS, NOW, buyer, payment)
    assert result.outcome == orders.Outcome.SOLD and result.payout is not None
    return result, buyer.id


async def test_escrow_releases_what_is_not_disputed(repo: Repo) -> None:
    kept, _ = await sold_payout(repo)
    disputed, buyer_id = await sold_payout(repo, price=2500)
    assert kept.payout is not None and disputed.payout is not None and disputed.order is not None
    buyer = await repo.users.by_id(buyer_id)
    assert buyer is not None
    await payouts.open_dispute(repo, NOW + timedelta(days=2, hours=1), buyer, disputed.order.id, "Didn't scan")
    due = kept.payout.release_at
    assert due == NOW + timedelta(days=2, hours=12)

    assert await sweeps.release_escrow(repo, due - timedelta(seconds=1)) == []
    released = await sweeps.release_escrow(repo, due)
    assert [(r.payout.id, r.payout.status, r.ticket.id) for r in released] == [
        (kept.payout.id, PayoutStatus.RELEASED, kept.ticket.id)  # type: ignore[union-attr]
    ]
    assert (await repo.payouts.by_id(kept.payout.id)).status == PayoutStatus.RELEASED  # type: ignore[union-attr]
    assert await sweeps.release_escrow(repo, due + timedelta(days=30)) == []  # idempotent; the dispute holds
    assert (await repo.payouts.by_id(disputed.payout.id)).status == PayoutStatus.FROZEN  # type: ignore[union-attr]
    # It shows up for the payout gateway, with its two ledger rows written once.
    assert [line.payout.id for line in await payouts.released(repo)] == [kept.payout.id]
    rows = (await repo.session.execute(LedgerEntry.__table__.select().where(
        LedgerEntry.payout_id == kept.payout.id, LedgerEntry.kind == "escrow_release"))).all()  # fmt: skip
    held = kept.order.amount - kept.order.fee_amount  # type: ignore[union-attr]
    assert sorted((row.account, row.amount, row.currency) for row in rows) == [
        ("escrow", -held, "XTR"),  # paid in Stars...
        ("seller", kept.payout.amount, "RUB"),  # ... owed in roubles: the asking price
    ]
    exchange = (await repo.session.execute(LedgerEntry.__table__.select().where(
        LedgerEntry.payout_id == kept.payout.id, LedgerEntry.kind == "exchange"))).all()  # fmt: skip
    assert sorted((row.amount, row.currency) for row in exchange) == [(-kept.payout.amount, "RUB"), (held, "XTR")]
