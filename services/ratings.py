"""Ratings: after the escrow of a deal released without a dispute, its buyer (and nobody else) may rate it once,
1-5 stars with optional words; cards show the seller's record ("4.8, 12 sales", disputes lost)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from db.models import OrderStatus, PayoutStatus, Rating, User
from db.repo import Repo
from db.repositories.trust import SellerRecord
from services.errors import DomainError

STARS = range(1, 6)
WORDS_MAX = 500

ERROR_CODES = ("rate-not-yours", "rate-not-yet", "rate-disputed", "rate-done", "rate-stars")


async def can_rate(repo: Repo, buyer: User, order_id: int) -> None:
    """Raises DomainError unless the buyer may rate this deal now."""
    order = await repo.orders.by_id(order_id)
    if order is None or order.buyer_id != buyer.id or order.status != OrderStatus.PAID:
        raise DomainError("rate-not-yours")
    if await repo.payouts.dispute_of_order(order_id) is not None:
        raise DomainError("rate-disputed")
    payout = await repo.payouts.of_order(order_id)
    if payout is None or payout.status not in (PayoutStatus.RELEASED, PayoutStatus.PAID):
        raise DomainError("rate-not-yet")
    if await repo.trust.rating_of(order_id) is not None:
        raise DomainError("rate-done")


async def rate(repo: Repo, now: datetime, buyer: User, order_id: int, stars: int, words: str | None = None) -> Rating:
    if stars not in STARS:
        raise DomainError("rate-stars")
    await can_rate(repo, buyer, order_id)
    payout = await repo.payouts.of_order(order_id)
    assert payout is not None
    cleaned = " ".join((words or "").split())[:WORDS_MAX]
    rating = Rating(
        order_id=order_id,
        seller_id=payout.seller_id,
        buyer_id=buyer.id,
        stars=stars,
        words=cleaned or None,
        created_at=now,
    )
    if not await repo.trust.add_rating(rating):
        raise DomainError("rate-done")
    return rating


async def seller_records(repo: Repo, seller_ids: Sequence[int]) -> dict[int, SellerRecord]:
    """The record of each seller of a page of cards, in one query."""
    return await repo.trust.records(sorted(set(seller_ids)))
