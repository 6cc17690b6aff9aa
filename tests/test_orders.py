"""Buying: charges, holds, pre-checkout, payments, refunds and waiters, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from db.models import LedgerEntry, Order, OrderStatus, PayoutStatus, Refund, Ticket, TicketStatus, TicketWaiter
from db.repo import Repo
from services import orders, payouts
from services.errors import DomainError
from services.orders import Outcome, Payment
from services.rules import PaymentRules
from tests.factories import make_payment_rules, make_ticket, make_user, make_users
from tests.test_i18n import catalogs

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STARS = make_payment_rules()
PROVIDER = make_payment_rules(payment_provider_token="381764678:TEST:100500", service_fee_percent=5)


def payment_for(hold: orders.Hold, charge_id: str = "charge-1") -> Payment:
    return Payment(hold.order.public_id, hold.charge.currency, hold.charge.total, charge_id, f"provider-{charge_id}")


async def waiters(repo: Repo, ticket_id: int) -> int:
    query = select(func.count()).select_from(TicketWaiter).where(TicketWaiter.ticket_id == ticket_id)
    return int((await repo.session.execute(query)).scalar_one())


async def ledger_sum(repo: Repo, order_id: int) -> int:
    return sum(entry.amount for entry in await repo.ledger.of_order(order_id))


def test_charges_stars_and_provider() -> None:
    ticket = Ticket(price=2500, currency="RUB")
    assert orders.charge_for(ticket, STARS) == orders.Charge("XTR", 1500, 0)
    with_fee = make_payment_rules(service_fee_percent=10, stars_per_unit=0.7)
    assert orders.charge_for(Ticket(price=999, currency="RUB"), with_fee) == orders.Charge("XTR", 700, 70)
    assert orders.charge_for(Ticket(price=1, currency="RUB"), make_payment_rules(stars_per_unit=0.01)).total == 1
    assert orders.charge_for(ticket, PROVIDER) == orders.Charge("RUB", 250_000, 12_500)
    jpy = make_payment_rules(payment_provider_token="1:TEST:x", currency="JPY")
    assert orders.charge_for(Ticket(price=3000, currency="JPY"), jpy) == orders.Charge("JPY", 3000, 0)
    with pytest.raises(DomainError, match="buy-currency"):
        orders.charge_for(Ticket(price=10, currency="EUR"), PROVIDER)


async def test_hold_reserves_the_ticket_once(repo: Repo) -> None:
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    hold = await orders.hold(repo, STARS, NOW, anna, ticket.id)
    assert hold.order.status == OrderStatus.PENDING
    assert hold.order.expires_at == NOW + timedelta(minutes=STARS.reservation_minutes)
    assert (hold.order.amount, hold.order.currency) == (1200, "XTR")
    assert len(hold.order.public_id.encode()) <= 128
    assert hold.ticket.status == TicketStatus.RESERVED
    again = await orders.hold(repo, STARS, NOW + timedelta(minutes=1), anna, ticket.id)
    assert again.order.id == hold.order.id  # pressing Buy again: the same order
    assert (hold.new, again.new) == (True, False)  # ... and no second invoice
    with pytest.raises(DomainError, match="buy-reserved"):
        await orders.hold(repo, STARS, NOW, boris, ticket.id)
    with pytest.raises(DomainError, match="buy-own-ticket"):
        await orders.hold(repo, STARS, NOW, seller, ticket.id)
    history = await repo.history.of_ticket(ticket.id)
    assert [change.status for change in history] == [TicketStatus.RESERVED]


async def test_the_hold_writes_the_whole_order_row(repo: Repo) -> None:
    """Every column of the order a hold opens, as the database has it (the INSERT is a Core one, not the unit of
    work's: same row), and the order is the session's own object."""
    seller, anna, boris = await make_users(repo, NOW, 3)
    first, second = await make_ticket(repo, seller, NOW), await make_ticket(repo, seller, NOW)
    pressed = orders.BuyMessage(anna.telegram_id, 77, {"on": "f", "at": 3, "key": 9, "filters": {"type": "concert"}})
    hold = await orders.hold(repo, PROVIDER, NOW, anna, first.id, pressed)
    bare = await orders.hold(repo, PROVIDER, NOW, boris, second.id)
    columns = Order.__table__.c
    rows = {row.id: row._asdict() for row in await repo.session.execute(select(*columns, columns.buy_view.is_(None)))}
    common = {"amount": 210_000, "fee_amount": 10_000, "currency": "RUB", "status": OrderStatus.PENDING,
              "created_at": NOW, "expires_at": NOW + PROVIDER.hold_time, "paid_at": None,
              "telegram_payment_charge_id": None, "provider_payment_charge_id": None}  # fmt: skip
    assert rows[hold.order.id] == {
        **common, "id": hold.order.id, "public_id": hold.order.public_id, "ticket_id": first.id, "buyer_id": anna.id,
        "buy_chat_id": anna.telegram_id, "buy_message_id": 77, "buy_view": pressed.view, "anon_1": False,
    }  # fmt: skip
    assert rows[bare.order.id] == {
        **common, "id": bare.order.id, "public_id": bare.order.public_id, "ticket_id": second.id, "buyer_id": boris.id,
        "buy_chat_id": None, "buy_message_id": None, "buy_view": None, "anon_1": False,  # JSON null, as ever written
    }  # fmt: skip
    assert len({hold.order.public_id, bare.order.public_id}) == 2
    assert await repo.session.get(Order, hold.order.id) is hold.order
    assert hold.order.buy_view == pressed.view and hold.order.status == OrderStatus.PENDING


async def test_refused_presses_hold_nothing(repo: Repo) -> None:
    """A press the one-statement hold does not take is refused for its reason, and the ticket stays on sale, with no
    order: another currency; a waiter's claim window on a single ticket (only its waiter may buy it)."""
    seller, waiter, stranger = await make_users(repo, NOW, 3)
    euros = await make_ticket(repo, seller, NOW, currency="EUR")
    with pytest.raises(DomainError, match="buy-currency"):
        await orders.hold(repo, STARS, NOW, stranger, euros.id)
    offered = await make_ticket(repo, seller, NOW)
    await repo.waitlist.add_offer(offered.id, waiter.id, NOW, NOW + timedelta(minutes=10))
    with pytest.raises(DomainError, match="buy-offered"):
        await orders.hold(repo, STARS, NOW, stranger, offered.id)
    for ticket_id in (euros.id, offered.id):
        assert (await repo.orders.ticket(ticket_id)).status == TicketStatus.ACTIVE  # type: ignore[union-attr]
    assert await repo.session.scalar(select(func.count(Order.id))) == 0
    held = await orders.hold(repo, STARS, NOW, waiter, offered.id)
    assert held.new and held.ticket.status == TicketStatus.RESERVED


@pytest.mark.parametrize("status", [TicketStatus.SOLD, TicketStatus.EXPIRED, TicketStatus.WITHDRAWN,
                                    TicketStatus.BLOCKED])  # fmt: skip
async def test_no_hold_on_tickets_not_on_sale(repo: Repo, status: TicketStatus) -> None:
    seller, buyer = await make_user(repo, NOW), await make_user(repo, NOW)
    ticket = await make_ticket(repo, seller, NOW, status=status)
    with pytest.raises(DomainError, match="buy-sold" if status == TicketStatus.SOLD else "buy-gone"):
        await orders.hold(repo, STARS, NOW, buyer, ticket.id)
    with pytest.raises(DomainError, match="buy-gone"):
        await orders.hold(repo, STARS, NOW, buyer, 999_999)
    if status == TicketStatus.SOLD:  # its own buyer is told it is theirs
        ticket.buyer_id = buyer.id
        await repo.session.flush()
        with pytest.raises(DomainError, match="buy-bought"):
            await orders.hold(repo, STARS, NOW, buyer, ticket.id)
    past = await make_ticket(repo, seller, NOW, event_at=NOW - timedelta(hours=1))
    with pytest.raises(DomainError, match="buy-event-passed"):
        await orders.hold(repo, STARS, NOW, buyer, past.id)
    assert await repo.session.scalar(select(func.count(Order.id))) == 0


async def test_a_lapsed_hold_is_taken_over(repo: Repo) -> None:
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    first = await orders.hold(repo, STARS, NOW, anna, ticket.id)
    later = NOW + timedelta(minutes=STARS.reservation_minutes)
    second = await orders.hold(repo, STARS, later, boris, ticket.id)
    assert (await repo.orders.by_id(first.order.id)).status == OrderStatus.EXPIRED  # type: ignore[union-attr]
    assert second.order.status == OrderStatus.PENDING and second.ticket.status == TicketStatus.RESERVED
    history = [(c.status, c.actor) for c in await repo.history.of_ticket(ticket.id)]
    assert history == [(TicketStatus.RESERVED, "buyer"), (TicketStatus.ACTIVE, "system"),
                       (TicketStatus.RESERVED, "buyer")]  # fmt: skip


async def test_cancel_hold_frees_the_ticket(repo: Repo) -> None:
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    hold = await orders.hold(repo, STARS, NOW, anna, ticket.id)
    with pytest.raises(DomainError, match="buy-not-yours"):
        await orders.cancel_hold(repo, NOW, boris, hold.order.id)
    await orders.cancel_hold(repo, NOW, anna, hold.order.id)
    assert (await repo.orders.ticket(ticket.id)).status == TicketStatus.ACTIVE  # type: ignore[union-attr]
    with pytest.raises(DomainError, match="buy-hold-over"):
        await orders.cancel_hold(repo, NOW, anna, hold.order.id)
    assert (await orders.hold(repo, STARS, NOW, boris, ticket.id)).order.buyer_id == boris.id


async def test_waiters_are_kept_once_and_handed_out_once(repo: Repo) -> None:
    seller, anna, boris, clara = await make_users(repo, NOW, 4)
    ticket = await make_ticket(repo, seller, NOW)
    with pytest.raises(DomainError, match="buy-wait-free-now"):
        await orders.wait_for(repo, NOW, boris, ticket.id)
    await orders.hold(repo, STARS, NOW, anna, ticket.id)
    with pytest.raises(DomainError, match="buy-wait-yours"):
        await orders.wait_for(repo, NOW, anna, ticket.id)
    with pytest.raises(DomainError, match="buy-own-ticket"):
        await orders.wait_for(repo, NOW, seller, ticket.id)
    for user in (boris, boris, clara):
        await orders.wait_for(repo, NOW, user, ticket.id)
    assert await waiters(repo, ticket.id) == 2
    taken = await repo.orders.take_waiters([ticket.id])
    assert sorted(user.id for _, user in taken) == [boris.id, clara.id]
    assert await repo.orders.take_waiters([ticket.id]) == []


async def test_pre_checkout_checks(repo: Repo) -> None:
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    hold = await orders.hold(repo, PROVIDER, NOW, anna, ticket.id)
    order = hold.order
    assert await orders.check_checkout(repo, NOW, anna, order.public_id, "RUB", 210_000) == order
    refusals = [
        (anna, "nope", "RUB", 210_000, NOW, "buy-pay-unknown"),
        (boris, order.public_id, "RUB", 210_000, NOW, "buy-pay-not-yours"),
        (None, order.public_id, "RUB", 210_000, NOW, "buy-pay-not-yours"),
        (anna, order.public_id, "RUB", 200_000, NOW, "buy-pay-mismatch"),
        (anna, order.public_id, "XTR", 210_000, NOW, "buy-pay-mismatch"),
        (anna, order.public_id, "RUB", 210_000, order.expires_at, "buy-pay-expired"),
    ]
    for payer, payload, currency, amount, at, code in refusals:
        with pytest.raises(DomainError, match=code):
            await orders.check_checkout(repo, at, payer, payload, currency, amount)
    await orders.cancel_hold(repo, NOW, anna, order.id)
    with pytest.raises(DomainError, match="buy-pay-closed"):
        await orders.check_checkout(repo, NOW, anna, order.public_id, "RUB", 210_000)


@pytest.mark.parametrize("settings", [STARS, PROVIDER], ids=["stars", "provider"])
async def test_payment_sells_and_holds_the_money(repo: Repo, settings: PaymentRules) -> None:
    seller, buyer, waiter = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(days=3))
    hold = await orders.hold(repo, settings, NOW, buyer, ticket.id)
    await orders.wait_for(repo, NOW, waiter, ticket.id)
    paid_at = NOW + timedelta(minutes=3)
    result = await orders.record_payment(repo, settings, paid_at, buyer, payment_for(hold))
    assert result.outcome == Outcome.SOLD
    assert result.order and result.ticket and result.payout
    assert (result.order.status, result.order.paid_at) == (OrderStatus.PAID, paid_at)
    assert result.order.telegram_payment_charge_id == "charge-1"
    assert (result.ticket.status, result.ticket.buyer_id, result.ticket.sold_at) == (TicketStatus.SOLD, buyer.id,
                                                                                    paid_at)  # fmt: skip
    payout = result.payout
    assert (payout.status, payout.seller_id) == (PayoutStatus.HELD, seller.id)
    # The seller is owed the asking price in the listing's currency (kopecks), whatever the buyer paid in.
    assert (payout.amount, payout.currency) == (ticket.price * 100, ticket.currency)
    assert payout.release_at == ticket.event_at + timedelta(hours=settings.escrow_hours)
    entries = [(e.kind, e.account, e.amount) for e in await repo.ledger.of_order(hold.order.id)]
    expected = [("payment", "buyer", -hold.charge.total), ("escrow_hold", "escrow", hold.charge.price)]
    if hold.charge.fee:
        expected.append(("fee", "platform", hold.charge.fee))
    assert entries == expected
    assert await ledger_sum(repo, hold.order.id) == 0
    assert await waiters(repo, ticket.id) == 0  # sold: nobody waits any more
    # The same payment delivered again changes nothing.
    again = await orders.record_payment(repo, settings, paid_at + timedelta(seconds=5), buyer, payment_for(hold))
    assert again.outcome == Outcome.DUPLICATE and again.order and again.order.id == hold.order.id
    assert len(await repo.ledger.of_order(hold.order.id)) == len(expected)


async def test_payment_after_a_lapsed_hold_nobody_took_still_sells(repo: Repo) -> None:
    seller, buyer = await make_user(repo, NOW), await make_user(repo, NOW)
    ticket = await make_ticket(repo, seller, NOW)
    hold = await orders.hold(repo, STARS, NOW, buyer, ticket.id)
    late = hold.order.expires_at + timedelta(minutes=1)
    # Not swept yet: the hold is still the buyer's.
    assert (await orders.record_payment(repo, STARS, late, buyer, payment_for(hold))).outcome == Outcome.SOLD


async def test_payment_after_the_sweep_sells_if_the_ticket_is_free(repo: Repo) -> None:
    seller, buyer = await make_user(repo, NOW), await make_user(repo, NOW)
    ticket = await make_ticket(repo, seller, NOW)
    hold = await orders.hold(repo, STARS, NOW, buyer, ticket.id)
    late = hold.order.expires_at + timedelta(minutes=1)
    await orders.expire_hold(repo, late, ticket_id=ticket.id)  # what the hold sweep does
    result = await orders.record_payment(repo, STARS, late, buyer, payment_for(hold))
    assert result.outcome == Outcome.SOLD and result.order and result.order.status == OrderStatus.PAID


@pytest.mark.parametrize("settings", [STARS, PROVIDER], ids=["stars", "provider"])
async def test_payment_for_a_ticket_someone_else_took_is_refunded(repo: Repo, settings: PaymentRules) -> None:
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    late_hold = await orders.hold(repo, settings, NOW, anna, ticket.id)
    later = NOW + timedelta(minutes=20)
    boris_hold = await orders.hold(repo, settings, later, boris, ticket.id)
    assert (await orders.record_payment(repo, settings, later, boris, payment_for(boris_hold, "b"))).outcome == "sold"
    result = await orders.record_payment(repo, settings, later, anna, payment_for(late_hold, "a"))
    assert result.outcome == Outcome.REFUND and result.reason == "ticket-gone"
    assert result.order and result.order.status == OrderStatus.REFUNDED
    assert result.order.telegram_payment_charge_id == "a"
    assert result.refund and (result.refund.amount, result.refund.currency) == (late_hold.charge.total,
                                                                              late_hold.charge.currency)  # fmt: skip
    assert await ledger_sum(repo, late_hold.order.id) == 0
    assert (await repo.orders.ticket(ticket.id)).buyer_id == boris.id  # type: ignore[union-attr]
    again = await orders.record_payment(repo, settings, later, anna, payment_for(late_hold, "a"))
    assert again.outcome == Outcome.DUPLICATE
    assert await repo.session.scalar(select(func.count(Refund.id))) == 1
    assert await orders.complete_refund(repo, later, result.refund.id)
    assert not await orders.complete_refund(repo, later, result.refund.id)


async def test_payments_that_dont_match_are_refunded(repo: Repo) -> None:
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    hold = await orders.hold(repo, STARS, NOW, anna, ticket.id)
    by_boris = await orders.record_payment(repo, STARS, NOW, boris, payment_for(hold, "x"))
    assert by_boris.outcome == Outcome.REFUND and by_boris.reason == "unknown-order"
    wrong = Payment(hold.order.public_id, "XTR", hold.charge.total - 1, "y")
    mismatch = await orders.record_payment(repo, STARS, NOW, anna, wrong)
    assert mismatch.outcome == Outcome.REFUND and mismatch.reason == "amount-mismatch"
    assert (await repo.orders.ticket(ticket.id)).status == TicketStatus.ACTIVE  # type: ignore[union-attr]
    assert await repo.ledger.balance("buyer", "XTR") == 0


async def test_a_refund_per_payment(repo: Repo) -> None:
    """Each payment is given back once, by its own charge: a second payment for a paid order bounces (and a
    redelivery of it changes nothing), a later dispute refunds the first payment, a payment for no order of ours
    has its refund row too."""
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(days=1))
    hold = await orders.hold(repo, STARS, NOW, anna, ticket.id)
    assert (await orders.record_payment(repo, STARS, NOW, anna, payment_for(hold, "a"))).outcome == Outcome.SOLD
    second = replace(payment_for(hold, "b"), payer_telegram_id=anna.telegram_id)
    bounced = await orders.record_payment(repo, STARS, NOW, anna, second)
    assert bounced.outcome == Outcome.REFUND and bounced.reason == "double-payment" and bounced.refund is not None
    assert (bounced.refund.telegram_payment_charge_id, bounced.refund.payer_telegram_id) == ("b", anna.telegram_id)
    ledger_rows = len(await repo.ledger.of_order(hold.order.id))
    assert (await orders.record_payment(repo, STARS, NOW, anna, second)).outcome == Outcome.DUPLICATE
    assert len(await repo.ledger.of_order(hold.order.id)) == ledger_rows

    case = await payouts.open_dispute(repo, NOW + timedelta(days=1, hours=1), anna, hold.order.id, "Didn't scan")
    settled = await payouts.refund_dispute(repo, NOW + timedelta(days=1, hours=2), case.dispute.id, admin_id=1)
    assert settled.refund is not None and settled.refund.telegram_payment_charge_id == "a"
    assert settled.refund.payer_telegram_id == anna.telegram_id
    refunds = (await repo.session.execute(select(Refund.order_id, Refund.telegram_payment_charge_id))).all()
    assert sorted(refunds) == [(hold.order.id, "a"), (hold.order.id, "b")]

    stray = Payment("no-such-order", "XTR", 500, "c", payer_telegram_id=boris.telegram_id)
    unknown = await orders.record_payment(repo, STARS, NOW, boris, stray)
    assert unknown.outcome == Outcome.REFUND and unknown.refund is not None and unknown.refund.order_id is None
    assert (await orders.record_payment(repo, STARS, NOW, boris, stray)).outcome == Outcome.DUPLICATE
    assert [task.refund.telegram_payment_charge_id for task in await repo.orders.pending_refunds(10)] == ["b", "c", "a"]
    assert await repo.ledger.balance("buyer", "XTR") == 0


async def test_the_database_refuses_a_second_paid_order_for_a_ticket(repo: Repo) -> None:
    seller, anna, boris = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    first = await orders.hold(repo, STARS, NOW, anna, ticket.id)
    second = await orders.hold(repo, STARS, NOW + timedelta(hours=1), boris, ticket.id)
    await repo.session.execute(update(Order).where(Order.id == first.order.id).values(status=OrderStatus.PAID))
    with pytest.raises(IntegrityError):
        async with repo.session.begin_nested():
            await repo.session.execute(update(Order).where(Order.id == second.order.id).values(status=OrderStatus.PAID))
    assert await repo.session.scalar(select(func.count(LedgerEntry.id))) == 0


def test_every_refusal_and_refund_reason_has_a_text() -> None:
    """Codes reach the user as message keys (`_(error.code)`), which the i18n test can't see in the code."""
    keys = [*orders.ERROR_CODES, *payouts.ERROR_CODES, *(f"buy-refunded-{reason}" for reason in orders.REFUND_REASONS)]
    for texts in catalogs().values():
        assert [key for key in keys if key not in texts] == []
