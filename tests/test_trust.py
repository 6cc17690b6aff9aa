"""Share codes (random, unique, parsed from /start payloads) and ratings (only the buyer, only after a release
without a dispute, once) with the sellers' records read in one query."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.models import Dispute, DisputeStatus, Order, OrderStatus, Payout, PayoutStatus, Ticket, User
from db.repo import Repo
from services import ratings, sharing
from services.errors import DomainError
from tests.factories import make_ticket, make_users

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@given(st.text(max_size=70))
def test_start_payloads_parse_to_a_code_or_nothing(payload: str) -> None:
    code = sharing.code_from_start(payload)
    assert code is None or sharing.start_payload(code) == payload


def test_a_made_code_round_trips() -> None:
    assert sharing.code_from_start(sharing.start_payload("AbC-_12345xy")) == "AbC-_12345xy"
    assert sharing.code_from_start("t_123") is None and sharing.code_from_start(None) is None


async def test_share_codes(repo: Repo) -> None:
    seller, *_ = await make_users(repo, NOW, 1)
    tickets = [await make_ticket(repo, seller, NOW) for _ in range(3)]
    codes = [await sharing.share_code(repo, t.id) for t in tickets]
    assert len(set(codes)) == 3 and all(str(t.id) != c for t, c in zip(tickets, codes, strict=True))
    assert await sharing.share_code(repo, tickets[0].id) == codes[0]
    card = await sharing.resolve(repo, codes[1])
    assert card.ticket.id == tickets[1].id and card.seller.first_name == seller.first_name
    with pytest.raises(DomainError):
        await sharing.resolve(repo, "nonexistent00")


async def paid_order(repo: Repo, ticket: Ticket, buyer: User, public_id: str) -> Order:
    order = Order(
        public_id=public_id,
        ticket_id=ticket.id,
        buyer_id=buyer.id,
        amount=100,
        currency="XTR",
        status=OrderStatus.PAID,
        created_at=NOW,
        expires_at=NOW,
    )
    repo.session.add(order)
    await repo.session.flush()
    return order


async def deal(repo: Repo, seller: User, buyer: User, payout: PayoutStatus, n: int) -> tuple[Ticket, Order]:
    ticket = await make_ticket(repo, seller, NOW)
    order = await paid_order(repo, ticket, buyer, f"deal-{n}")
    repo.session.add(
        Payout(order_id=order.id, seller_id=seller.id, amount=100, currency="RUB", status=payout, release_at=NOW)
    )
    await repo.session.flush()
    return ticket, order


async def test_ratings_and_seller_record(repo: Repo) -> None:
    seller, buyer, stranger = await make_users(repo, NOW, 3)
    _, released = await deal(repo, seller, buyer, PayoutStatus.RELEASED, 1)
    _, held = await deal(repo, seller, buyer, PayoutStatus.HELD, 2)
    _, disputed = await deal(repo, seller, buyer, PayoutStatus.CANCELLED, 3)
    repo.session.add(
        Dispute(order_id=disputed.id, opened_by=buyer.id, buyer_text="no", status=DisputeStatus.REFUNDED, opened_at=NOW)
    )
    await repo.session.flush()

    async def refused(code: str, user: User, order_id: int, stars: int = 5) -> None:
        with pytest.raises(DomainError) as caught:
            await ratings.rate(repo, NOW, user, order_id, stars)
        assert caught.value.code == code

    await refused("rate-not-yours", stranger, released.id)
    await refused("rate-not-yet", buyer, held.id)
    await refused("rate-disputed", buyer, disputed.id)
    await refused("rate-stars", buyer, released.id, stars=6)
    await ratings.rate(repo, NOW, buyer, released.id, 4, "  fine,   thanks ")
    await refused("rate-done", buyer, released.id)
    record = (await ratings.seller_records(repo, [seller.id, seller.id]))[seller.id]
    assert (record.sales, record.ratings, record.average, record.disputes_lost) == (3, 1, 4.0, 1)
    assert (await repo.trust.rating_of(released.id)).words == "fine, thanks"  # type: ignore[union-attr]
