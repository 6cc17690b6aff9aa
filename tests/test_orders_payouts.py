"""The seller's money after a sale: escrow, release, payout, disputes decided both ways; the ledger balances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.models import DisputeStatus, OrderStatus, PayoutStatus, RefundStatus, User
from db.repo import Repo
from services import orders, payouts
from services.errors import DomainError
from services.payouts import ManualPayoutGateway, PayoutGateway, PayoutRequest
from tests.factories import make_payment_rules, make_ticket, make_users

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SETTINGS = make_payment_rules(payment_provider_token="381764678:TEST:100500", service_fee_percent=10, escrow_hours=12)
ADMIN = 777


async def sold(repo: Repo) -> tuple[orders.PaymentResult, User, User]:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(days=2), price=3000)
    hold = await orders.hold(repo, SETTINGS, NOW, buyer, ticket.id)
    payment = orders.Payment(hold.order.public_id, "RUB", hold.charge.total, f"c{ticket.id}")
    result = await orders.record_payment(repo, SETTINGS, NOW, buyer, payment)
    assert result.outcome == orders.Outcome.SOLD
    return result, seller, buyer


async def balances(repo: Repo) -> dict[str, int]:
    accounts = ("buyer", "escrow", "platform", "seller", "gateway")
    return {account: await repo.ledger.balance(account, "RUB") for account in accounts}


async def test_release_then_mark_paid(repo: Repo) -> None:
    result, seller, _ = await sold(repo)
    payout = result.payout
    assert payout is not None and payout.amount == 300_000
    assert await payouts.release_due(repo, payout.release_at - timedelta(seconds=1)) == []
    released = await payouts.release_due(repo, payout.release_at)
    assert [p.id for p in released] == [payout.id]
    assert await payouts.release_due(repo, payout.release_at) == []  # idempotent
    lines = await payouts.released(repo)
    assert [(line.payout.id, line.seller.phone_e164) for line in lines] == [(payout.id, seller.phone_e164)]
    line = await payouts.mark_paid(repo, ManualPayoutGateway(), NOW, payout.id, ADMIN)
    assert line.payout.status == PayoutStatus.PAID and line.payout.gateway_reference == f"manual:{ADMIN}"
    with pytest.raises(DomainError, match="money-payout-not-released"):
        await payouts.mark_paid(repo, ManualPayoutGateway(), NOW, payout.id, ADMIN)
    assert await payouts.released(repo) == []
    assert await balances(repo) == {"buyer": -330_000, "escrow": 0, "platform": 30_000, "seller": 0,
                                    "gateway": 300_000}  # fmt: skip


async def test_a_failing_gateway_leaves_the_payout_released(repo: Repo) -> None:
    result, _, _ = await sold(repo)
    assert result.payout is not None
    await payouts.release_due(repo, result.payout.release_at)

    class Down:
        name = "down"

        async def send(self, request: PayoutRequest, *, confirmed_by: int) -> str:
            raise ConnectionError("bank is down")

    gateway: PayoutGateway = Down()
    with pytest.raises(ConnectionError):
        await payouts.mark_paid(repo, gateway, NOW, result.payout.id, ADMIN)
    assert (await repo.payouts.by_id(result.payout.id)).status == PayoutStatus.RELEASED  # type: ignore[union-attr]


async def test_dispute_then_refund(repo: Repo) -> None:
    result, seller, buyer = await sold(repo)
    assert result.order and result.payout
    order_id = result.order.id
    with pytest.raises(DomainError, match="dispute-not-yours"):
        await payouts.open_dispute(repo, NOW, seller, order_id, "nope")
    with pytest.raises(DomainError, match="dispute-text-empty"):
        await payouts.open_dispute(repo, NOW, buyer, order_id, "   ")
    case = await payouts.open_dispute(repo, NOW, buyer, order_id, "The turnstile said <b>invalid</b>")
    assert case.payout.status == PayoutStatus.FROZEN and case.dispute.status == DisputeStatus.OPEN
    with pytest.raises(DomainError, match="dispute-exists"):
        await payouts.open_dispute(repo, NOW, buyer, order_id, "again")
    # A frozen payout is not released by the sweep.
    assert await payouts.release_due(repo, result.payout.release_at + timedelta(days=1)) == []
    with pytest.raises(DomainError, match="dispute-not-yours"):
        await payouts.add_seller_words(repo, buyer, case.dispute.id, "I am the seller")
    case = await payouts.add_seller_words(repo, seller, case.dispute.id, "It worked when I bought it")
    assert case.dispute.seller_text == "It worked when I bought it"
    assert [c.dispute.id for c in await payouts.open_disputes(repo)] == [case.dispute.id]
    settlement = await payouts.refund_dispute(repo, NOW, case.dispute.id, ADMIN)
    assert settlement.case.dispute.status == DisputeStatus.REFUNDED and settlement.case.dispute.resolved_by == ADMIN
    assert settlement.case.payout.status == PayoutStatus.CANCELLED
    assert settlement.case.order.status == OrderStatus.REFUNDED
    assert settlement.refund and settlement.refund.status == RefundStatus.PENDING
    assert settlement.refund.amount == 330_000
    with pytest.raises(DomainError, match="money-dispute-closed"):
        await payouts.release_dispute(repo, NOW, case.dispute.id, ADMIN)
    with pytest.raises(DomainError, match="dispute-closed"):
        await payouts.add_seller_words(repo, seller, case.dispute.id, "late words")
    assert await payouts.open_disputes(repo) == []
    assert await balances(repo) == {"buyer": 0, "escrow": 0, "platform": 0, "seller": 0, "gateway": 0}


async def test_dispute_then_release(repo: Repo) -> None:
    result, _, buyer = await sold(repo)
    assert result.order and result.payout
    case = await payouts.open_dispute(repo, NOW, buyer, result.order.id, "Did not scan")
    settlement = await payouts.release_dispute(repo, NOW + timedelta(hours=1), case.dispute.id, ADMIN)
    assert settlement.refund is None
    assert settlement.case.payout.status == PayoutStatus.RELEASED
    assert settlement.case.payout.released_at == NOW + timedelta(hours=1)
    assert settlement.case.dispute.status == DisputeStatus.RELEASED
    with pytest.raises(DomainError, match="money-dispute-closed"):
        await payouts.refund_dispute(repo, NOW, case.dispute.id, ADMIN)
    assert (await balances(repo))["seller"] == 300_000


async def test_no_dispute_once_the_money_is_released(repo: Repo) -> None:
    result, _, buyer = await sold(repo)
    assert result.order and result.payout
    with pytest.raises(DomainError, match="dispute-too-late"):
        await payouts.open_dispute(repo, result.payout.release_at, buyer, result.order.id, "late")
    await payouts.release_due(repo, result.payout.release_at)
    with pytest.raises(DomainError, match="dispute-too-late"):
        await payouts.open_dispute(repo, NOW, buyer, result.order.id, "late")
