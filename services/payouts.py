"""The seller's money: escrow, release, payout through a gateway, and the buyer's disputes.

Payout states: held (in escrow until the event start + ESCROW_HOURS) -> released (by the sweep, `release_due`)
-> paid (an admin through the gateway); held -> frozen by a dispute, then released (the seller was right) or
cancelled (the buyer is refunded).

Ledger: every move of money is a set of postings that sums to zero in each currency, in its smallest unit.
Accounts: buyer (money from and back to buyers), escrow (held for sellers), platform (service fees), exchange
(payment currency into the listing's), seller (released, owed to sellers), gateway (sent to sellers).
  payment  buyer -A, escrow +net, platform +fee      (services.orders; in the payment currency)
  release  escrow -net, seller +price                (price: the asking price in the listing's currency; when the
                                                      payment was in Stars: exchange +net XTR, exchange -price RUB)
  payout   seller -price, gateway +price
  refund   escrow -net, platform -fee, buyer +A      (a dispute decided for the buyer)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from db.models import Dispute, DisputeStatus, Order, OrderStatus, Payout, PayoutStatus, Refund, User
from db.repo import Repo
from db.repositories.ledger import Posting
from db.repositories.payouts import DisputeCase, PayoutLine
from services.errors import DomainError

log = logging.getLogger(__name__)

DISPUTE_TEXT_MAX = 1000


# Every code a refusal here can carry (each has a text in buy.po or admin_money.po).
ERROR_CODES = (
    "dispute-not-yours",
    "dispute-not-paid",
    "dispute-too-late",
    "dispute-exists",
    "dispute-text-empty",
    "dispute-closed",
    "money-payout-not-released",
    "money-dispute-closed",
)


# --- the gateway ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PayoutRequest:
    payout_id: int  # also the idempotency key for a gateway that pays by itself
    amount: int
    currency: str
    phone_e164: str
    seller_name: str


class PayoutGateway(Protocol):
    """Sends a released payout to the seller's phone-linked account; returns the gateway's reference.
    Called inside the transaction that marks the payout paid: raising leaves the payout released."""

    name: str

    async def send(self, request: PayoutRequest, *, confirmed_by: int) -> str: ...


class ManualPayoutGateway:
    """An admin pays by phone through the bank's fast-payment system, then marks the payout paid: the gateway
    only records who confirmed it."""

    name = "manual"

    async def send(self, request: PayoutRequest, *, confirmed_by: int) -> str:
        return f"manual:{confirmed_by}"


# --- escrow and payouts --------------------------------------------------------------------------------------
def _release_postings(payout: Payout, order: Order) -> list[Posting]:
    """Escrow -> the seller. The escrow holds what the buyer paid less the fee, in the payment currency; the seller
    is owed the asking price in the listing's currency. When the two differ (Telegram Stars), the release goes
    through the exchange account, so that each currency's postings still sum to zero."""
    ids = {"order_id": payout.order_id, "payout_id": payout.id}
    held = order.amount - order.fee_amount
    postings = [Posting("escrow_release", "escrow", -held, order.currency, **ids)]
    if order.currency != payout.currency:
        postings += [
            Posting("exchange", "exchange", held, order.currency, **ids),
            Posting("exchange", "exchange", -payout.amount, payout.currency, **ids),
        ]
    return [*postings, Posting("escrow_release", "seller", payout.amount, payout.currency, **ids)]


async def release_due(repo: Repo, now: datetime) -> list[Payout]:
    """Held payouts whose release time has come -> released, with their ledger rows, in the caller's
    transaction; the payouts this call released (for telling the sellers). Idempotent and set-based: the
    escrow sweep calls it."""
    payouts = await repo.payouts.release_due(now)
    orders = await repo.orders.by_ids([payout.order_id for payout in payouts])
    await repo.ledger.post([p for payout in payouts for p in _release_postings(payout, orders[payout.order_id])], now)
    return payouts


async def released(repo: Repo, limit: int = 20) -> list[PayoutLine]:
    return await repo.payouts.released(limit)


async def mark_paid(repo: Repo, gateway: PayoutGateway, now: datetime, payout_id: int, admin_id: int) -> PayoutLine:
    """Pay a released payout through the gateway and record it (released -> paid). The payout is claimed by a
    conditional update first, so two admins pressing at once pay it once."""
    payout = await repo.payouts.by_id(payout_id)
    seller = await repo.users.by_id(payout.seller_id) if payout else None
    if payout is None or seller is None:
        raise DomainError("money-payout-not-released")
    async with repo.session.begin_nested():  # the gateway raising leaves the payout released
        if not await repo.payouts.move(payout_id, PayoutStatus.RELEASED, PayoutStatus.PAID, paid_at=now):
            raise DomainError("money-payout-not-released")
        request = PayoutRequest(payout.id, payout.amount, payout.currency, seller.phone_e164, seller.full_name)
        await repo.payouts.set_reference(payout_id, await gateway.send(request, confirmed_by=admin_id))
    ids = {"order_id": payout.order_id, "payout_id": payout.id}
    await repo.ledger.post(
        [
            Posting("payout", "seller", -payout.amount, payout.currency, **ids),
            Posting("payout", "gateway", payout.amount, payout.currency, **ids),
        ],
        now,
    )
    await repo.audit.record(admin_id, "payout_paid", "payout", payout.id, now)
    fresh = await repo.payouts.by_id(payout_id)
    order = await repo.orders.by_id(payout.order_id)
    ticket = await repo.orders.ticket(order.ticket_id) if order else None
    assert fresh is not None and ticket is not None
    return PayoutLine(fresh, seller, ticket)


# --- disputes ------------------------------------------------------------------------------------------------
def clean_words(text: str) -> str:
    words = text.strip()[:DISPUTE_TEXT_MAX]
    if not words:
        raise DomainError("dispute-text-empty")
    return words


async def can_dispute(repo: Repo, now: datetime, buyer: User, order_id: int) -> Payout:
    """The payout a dispute of this order would freeze; raises DomainError when the buyer can't dispute."""
    order = await repo.orders.by_id(order_id)
    if order is None or order.buyer_id != buyer.id:
        raise DomainError("dispute-not-yours")
    payout = await repo.payouts.of_order(order_id)
    if order.status != OrderStatus.PAID or payout is None:
        raise DomainError("dispute-not-paid")
    if await repo.payouts.dispute_of_order(order_id) is not None:
        raise DomainError("dispute-exists")
    if payout.status != PayoutStatus.HELD or payout.release_at <= now:
        raise DomainError("dispute-too-late")
    return payout


async def open_dispute(repo: Repo, now: datetime, buyer: User, order_id: int, text: str) -> DisputeCase:
    """ "The ticket didn't work": the payout is frozen (only while still held, before its release time) and the
    buyer's words go to the admins."""
    words = clean_words(text)
    payout = await can_dispute(repo, now, buyer, order_id)
    try:
        async with repo.session.begin_nested():
            if not await repo.payouts.move(payout.id, PayoutStatus.HELD, PayoutStatus.FROZEN, due_after=now):
                raise DomainError("dispute-too-late")
            dispute = Dispute(
                order_id=order_id, opened_by=buyer.id, buyer_text=words, status=DisputeStatus.OPEN, opened_at=now
            )
            await repo.payouts.add_dispute(dispute)
    except IntegrityError as error:  # a second dispute of the same order at the same moment
        raise DomainError("dispute-exists") from error
    return (await repo.payouts.cases(dispute_ids=[dispute.id]))[0]


async def add_seller_words(repo: Repo, seller: User, dispute_id: int, text: str) -> DisputeCase:
    words = clean_words(text)
    cases = await repo.payouts.cases(dispute_ids=[dispute_id])
    if not cases or cases[0].seller.id != seller.id:
        raise DomainError("dispute-not-yours")
    if not await repo.payouts.set_seller_text(dispute_id, words):
        raise DomainError("dispute-closed")
    return (await repo.payouts.cases(dispute_ids=[dispute_id]))[0]


async def open_disputes(repo: Repo, limit: int = 10) -> list[DisputeCase]:
    return await repo.payouts.cases(limit=limit)


@dataclass(frozen=True)
class Settlement:
    case: DisputeCase
    refund: Refund | None = None  # decided for the buyer: the refund to do (Stars) or the admin task (provider)


async def refund_dispute(repo: Repo, now: datetime, dispute_id: int, admin_id: int) -> Settlement:
    """Decide for the buyer: the frozen payout is cancelled, the order refunded, a refund row written."""
    async with repo.session.begin_nested():  # a refusal part-way leaves nothing behind
        case = await _settle(repo, now, dispute_id, admin_id, DisputeStatus.REFUNDED)
        order, payout = case.order, case.payout
        cancelled = await repo.payouts.move(payout.id, PayoutStatus.FROZEN, PayoutStatus.CANCELLED)
        if not (cancelled and await repo.orders.move(order.id, [OrderStatus.PAID], OrderStatus.REFUNDED)):
            raise DomainError("money-dispute-closed")
        refund = await repo.orders.add_refund(
            Refund(
                order_id=order.id,
                telegram_payment_charge_id=order.telegram_payment_charge_id,
                provider_payment_charge_id=order.provider_payment_charge_id,
                payer_telegram_id=case.buyer.telegram_id,
                amount=order.amount,
                currency=order.currency,
                reason="dispute",
                created_at=now,
            )
        )
        if refund is None:  # the paying charge was given back already: nothing is refunded twice
            raise DomainError("money-dispute-closed")
    held = order.amount - order.fee_amount
    postings = [
        Posting("refund", "escrow", -held, order.currency, order_id=order.id, payout_id=payout.id),
        Posting("refund", "buyer", order.amount, order.currency, order_id=order.id),
    ]
    if order.fee_amount:
        postings.append(Posting("refund", "platform", -order.fee_amount, order.currency, order_id=order.id))
    await repo.ledger.post(postings, now)
    await repo.audit.record(admin_id, "dispute_refund", "dispute", dispute_id, now)
    return Settlement((await repo.payouts.cases(dispute_ids=[dispute_id]))[0], refund)


async def release_dispute(repo: Repo, now: datetime, dispute_id: int, admin_id: int) -> Settlement:
    """Decide for the seller: the frozen payout is released now."""
    async with repo.session.begin_nested():  # a refusal part-way leaves nothing behind
        case = await _settle(repo, now, dispute_id, admin_id, DisputeStatus.RELEASED)
        if not await repo.payouts.move(case.payout.id, PayoutStatus.FROZEN, PayoutStatus.RELEASED, released_at=now):
            raise DomainError("money-dispute-closed")
    await repo.ledger.post(_release_postings(case.payout, case.order), now)
    await repo.audit.record(admin_id, "dispute_release", "dispute", dispute_id, now)
    return Settlement((await repo.payouts.cases(dispute_ids=[dispute_id]))[0])


async def _settle(repo: Repo, now: datetime, dispute_id: int, admin_id: int, status: DisputeStatus) -> DisputeCase:
    cases = await repo.payouts.cases(dispute_ids=[dispute_id])
    if not cases or not await repo.payouts.settle_dispute(dispute_id, status, now, admin_id):
        raise DomainError("money-dispute-closed")
    return cases[0]


async def case_of_seller(repo: Repo, seller: User, dispute_id: int) -> DisputeCase | None:
    """A dispute about one of this seller's tickets; None for anyone else's."""
    cases = await repo.payouts.cases(dispute_ids=[dispute_id])
    return cases[0] if cases and cases[0].seller.id == seller.id else None
