"""Buying a ticket: the hold, what the invoice charges, the pre-checkout check, the payment and its refund.

A ticket is never sold twice: the hold is one conditional UPDATE of the ticket (active -> reserved), the sale
another (reserved -> sold, or active -> sold for a lapsed hold nobody took), both checked by their row counts, and
the partial unique index uq_orders_paid_ticket refuses a second paid order for a ticket whatever happens above it.
A payment that can't buy the ticket any more is refunded.

What one Buy takes is a unit (services.groups.unit_of): a single ticket, or every ticket of a together-group (adjacent
seats), whose order points at the lead ticket. Every state change moves the whole unit or nothing
(services.groups.move_unit), so no race, crash or refund sells part of a group."""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from babel.numbers import get_currency_precision
from sqlalchemy.exc import IntegrityError

from db.models import Order, OrderStatus, Payout, PayoutStatus, Refund, Ticket, TicketStatus, User
from db.repo import Repo
from db.repositories.ledger import Posting
from db.repositories.orders import LapsedHold, PendingRefund, Purchase
from services import groups, relay, waitlist
from services.errors import DomainError
from services.groups import Unit
from services.rules import PaymentRules

log = logging.getLogger(__name__)

STARS = "XTR"
GONE = (TicketStatus.SOLD, TicketStatus.EXPIRED, TicketStatus.WITHDRAWN, TicketStatus.BLOCKED)
HOLD_EXPIRED = "hold expired"  # the history reason of a ticket back on sale when its hold ran out


# Why a payment goes back (Refund.reason; each but "dispute" has a text buy-refunded-<reason> in buy.po).
REFUND_REASONS = ("ticket-gone", "double-payment", "amount-mismatch", "unknown-order")

# Every code a refusal here can carry (each has a text in buy.po).
ERROR_CODES = (
    "buy-gone",
    "buy-sold",
    "buy-bought",
    "buy-own-ticket",
    "buy-reserved",
    "buy-offered",
    "buy-event-passed",
    "buy-currency",
    "buy-not-yours",
    "buy-hold-over",
    "buy-wait-free-now",
    "buy-wait-yours",
    "buy-pay-unknown",
    "buy-pay-not-yours",
    "buy-pay-expired",
    "buy-pay-closed",
    "buy-pay-mismatch",
)


# --- what the invoice charges --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Charge:
    """Amounts in the payment currency's smallest unit (kopecks, cents; stars)."""

    currency: str
    price: int
    fee: int

    @property
    def total(self) -> int:
        return self.price + self.fee


def minor_units(currency: str) -> int:
    """Digits after the point in `currency`'s smallest unit: 2 for RUB, 0 for JPY and for Stars."""
    return 0 if currency == STARS else get_currency_precision(currency)


class Priced(Protocol):
    """A ticket, or a unit of them (one price for a together-group)."""

    @property
    def price(self) -> int: ...

    @property
    def currency(self) -> str: ...


def charge_for(ticket: Priced, rules: PaymentRules) -> Charge:
    """Provider: the price in the currency's smallest unit plus a fee line. Stars: the price converted with
    STARS_PER_UNIT and rounded up, the fee folded into one amount (a Stars invoice has one price item)."""
    if ticket.currency != rules.currency:
        raise DomainError("buy-currency")
    percent = Decimal(rules.service_fee_percent)
    if rules.uses_stars:
        rate = rules.stars_per_unit
        price = max(1, int((ticket.price * rate).to_integral_value(ROUND_CEILING)))
        total = max(price, int((ticket.price * rate * (100 + percent) / 100).to_integral_value(ROUND_CEILING)))
        return Charge(STARS, price, total - price)
    price = ticket.price * 10 ** minor_units(rules.currency)
    fee = int((price * percent / 100).to_integral_value(ROUND_HALF_UP))
    return Charge(rules.currency, price, fee)


# --- the hold ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuyMessage:
    """The buyer's message Buy was pressed on, kept with the order to redraw it once the ticket is theirs: its chat,
    its id and what it showed (opaque here: the handlers' own description of the view)."""

    chat_id: int
    message_id: int
    view: dict[str, Any]


@dataclass(frozen=True)
class Hold:
    order: Order
    ticket: Ticket  # the unit's lead ticket (the order's)
    tickets: tuple[Ticket, ...]  # every ticket the hold takes (two or more for a together-group)
    charge: Charge
    new: bool = True  # False: the buyer's own live hold, pressed for again


async def _unit(repo: Repo, ticket_id: int) -> Unit:
    unit = await groups.unit_of(repo, ticket_id)
    assert unit is not None  # a ticket row is never deleted
    return unit


async def hold(
    repo: Repo, rules: PaymentRules, now: datetime, buyer: User, ticket_id: int, pressed_on: BuyMessage | None = None
) -> Hold:
    """Reserve the ticket (for a together-group: all its tickets) for the buyer for `rules.reservation_minutes` and
    open one pending order for the unit's price, in the caller's transaction, keeping the message Buy was
    `pressed_on`. Pressing Buy again during one's own hold gives the same order back. A sold ticket is refused as
    such ("buy-bought" to its buyer).

    First the common case in one statement: a ticket sold alone, on sale, never offered to a waiter, not the buyer's,
    in the rules' currency, its event ahead, reserved by one conditional UPDATE (repo.orders.hold_alone). Any other
    ticket, or one that did not move, goes through each check in turn (and the same conditional move from active),
    which says why not; a buyer's own live hold keeps its ticket reserved, so it is found there too."""
    alone = await repo.orders.hold_alone(ticket_id, buyer.id, rules.currency, now)
    if alone is not None:
        single = Unit(alone, [alone], None)
        return await _open(repo, rules, now, buyer, single, charge_for(single, rules), pressed_on)
    unit = await groups.unit_of(repo, ticket_id)
    if unit is None:
        raise DomainError("buy-gone")
    ticket = unit.lead
    if ticket.seller_id == buyer.id:
        raise DomainError("buy-own-ticket")
    own = await repo.orders.live_hold(ticket.id, buyer.id, now)
    if own is not None:
        charge = Charge(own.currency, own.amount - own.fee_amount, own.fee_amount)
        return Hold(own, ticket, tuple(unit.tickets), charge, new=False)
    if any(t.status == TicketStatus.SOLD for t in unit.tickets):
        raise DomainError("buy-bought" if ticket.buyer_id == buyer.id else "buy-sold")
    if any(t.status in GONE for t in unit.tickets):
        raise DomainError("buy-gone")
    if ticket.event_at <= now:
        raise DomainError("buy-event-passed")
    if not await waitlist.may_buy(repo, ticket.id, buyer, now):
        raise DomainError("buy-offered")  # a waiter's claim window on it is open
    charge = charge_for(unit, rules)
    if ticket.status == TicketStatus.RESERVED:  # perhaps by a hold past its time that the sweep has not ended yet
        await expire_hold(repo, now, ticket_id=ticket.id)
    if not await groups.move_unit(repo, unit, [TicketStatus.ACTIVE], TicketStatus.RESERVED, now, buyer_id=buyer.id):
        fresh = await _unit(repo, ticket.id)
        reserved = any(t.status == TicketStatus.RESERVED for t in fresh.tickets)
        raise DomainError("buy-reserved" if reserved else "buy-gone")
    return await _open(repo, rules, now, buyer, unit, charge, pressed_on)


async def _open(
    repo: Repo,
    rules: PaymentRules,
    now: datetime,
    buyer: User,
    unit: Unit,
    charge: Charge,
    pressed_on: BuyMessage | None,
) -> Hold:
    """The pending order and the history rows of a unit just reserved for the buyer."""
    order = await repo.orders.add(
        Order(
            public_id=secrets.token_urlsafe(16),
            ticket_id=unit.lead.id,
            buyer_id=buyer.id,
            amount=charge.total,
            fee_amount=charge.fee,
            currency=charge.currency,
            status=OrderStatus.PENDING,
            created_at=now,
            expires_at=now + rules.hold_time,
            buy_chat_id=pressed_on and pressed_on.chat_id,
            buy_message_id=pressed_on and pressed_on.message_id,
            buy_view=pressed_on and pressed_on.view,
        )
    )
    await repo.history.record(unit.ids, TicketStatus.RESERVED, actor="buyer", at=now)
    if unit.group_id is not None:  # a single ticket was refreshed by its move; a group's tickets are read again
        unit = await _unit(repo, unit.lead.id)
    return Hold(order, unit.lead, tuple(unit.tickets), charge)


@dataclass(frozen=True)
class ExpiredHolds:
    lapsed: list[LapsedHold]  # the pending orders this call expired
    reopened: list[int]  # their tickets this call put back on sale


async def expire_hold(repo: Repo, now: datetime, *, ticket_id: int | None = None) -> ExpiredHolds:
    """A hold past its time ends: its pending order -> expired, its tickets (a together-group's every one) -> back
    on sale, with history rows. The hold sweep runs it for every hold due; Buy for one unit's lead (`ticket_id`)
    whose hold lapsed before the sweep came. Only the transaction that expires the order puts the tickets back, so
    two buyers can't both take them."""
    lapsed = await repo.orders.expire_holds(now, ticket_id=ticket_id)
    reopened = await repo.listings.reopen(sorted({hold.ticket_id for hold in lapsed}), now)
    reopened = sorted([*reopened, *await groups.reopen_together(repo, reopened, now)])
    await repo.history.record(reopened, TicketStatus.ACTIVE, actor="system", at=now, reason=HOLD_EXPIRED)
    return ExpiredHolds(lapsed, reopened)


async def cancel_hold(repo: Repo, now: datetime, buyer: User, order_id: int) -> Order:
    """The buyer lets the ticket go before paying: the order is cancelled and its unit back on sale."""
    order = await repo.orders.by_id(order_id)
    if order is None or order.buyer_id != buyer.id:
        raise DomainError("buy-not-yours")
    if not await repo.orders.move(order.id, [OrderStatus.PENDING], OrderStatus.CANCELLED):
        raise DomainError("buy-hold-over")
    unit = await _unit(repo, order.ticket_id)
    if await groups.move_unit(repo, unit, [TicketStatus.RESERVED], TicketStatus.ACTIVE, now):
        await repo.history.record(unit.ids, TicketStatus.ACTIVE, actor="buyer", at=now, reason="cancelled")
    return order


async def wait_for(repo: Repo, now: datetime, user: User, ticket_id: int) -> None:
    """Ask to be told when a ticket someone else holds is back on sale."""
    ticket = await repo.orders.ticket(ticket_id)
    if ticket is None or ticket.status in GONE or ticket.event_at <= now:
        raise DomainError("buy-gone")
    if ticket.seller_id == user.id:
        raise DomainError("buy-own-ticket")
    if ticket.status == TicketStatus.ACTIVE:
        raise DomainError("buy-wait-free-now")
    if await repo.orders.live_hold(ticket_id, user.id, now) is not None:
        raise DomainError("buy-wait-yours")
    await repo.orders.add_waiter(ticket_id, user.id, now)


# --- pre-checkout --------------------------------------------------------------------------------------------
async def check_checkout(
    repo: Repo, now: datetime, payer: User | None, payload: str, currency: str, total_amount: int
) -> Order:
    """Whether Telegram may take the money: the order is pending, its hold unexpired, it is the payer's, and
    the amount and currency are the order's. Raises DomainError with the reason otherwise."""
    order = await repo.orders.by_public_id(payload)
    if order is None:
        raise DomainError("buy-pay-unknown")
    if payer is None or payer.is_banned or order.buyer_id != payer.id:
        raise DomainError("buy-pay-not-yours")
    if order.status == OrderStatus.EXPIRED or (order.status == OrderStatus.PENDING and order.expires_at <= now):
        raise DomainError("buy-pay-expired")
    if order.status != OrderStatus.PENDING:
        raise DomainError("buy-pay-closed")
    if (order.currency, order.amount) != (currency, total_amount):
        raise DomainError("buy-pay-mismatch")
    return order


# --- the payment ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Payment:
    """A successful_payment as Telegram reports it."""

    payload: str
    currency: str
    total_amount: int
    telegram_charge_id: str
    provider_charge_id: str | None = None
    payer_telegram_id: int | None = None  # who paid: the one to give the money back to


class Outcome(enum.StrEnum):
    SOLD = "sold"  # the order is paid, the ticket the buyer's, the seller's money held
    DUPLICATE = "duplicate"  # this payment was recorded before: nothing changes
    REFUND = "refund"  # the money goes back to the payer


@dataclass(frozen=True)
class PaymentResult:
    outcome: Outcome
    order: Order | None = None
    ticket: Ticket | None = None  # the unit's lead ticket
    payout: Payout | None = None
    refund: Refund | None = None  # the refund row (Stars: for the caller to do now; provider: an admin task)
    reason: str | None = None  # why the money goes back


class _NotSold(Exception):
    pass


async def record_payment(
    repo: Repo, rules: PaymentRules, now: datetime, payer: User | None, payment: Payment
) -> PaymentResult:
    """Record a successful payment in the caller's transaction: the sale, or the refund when the ticket can't
    go to this buyer any more. Idempotent on the Telegram charge id."""
    seen = await repo.orders.by_charge_id(payment.telegram_charge_id)
    if seen is not None:
        return PaymentResult(Outcome.DUPLICATE, order=seen)
    if await repo.orders.refund_of_charge(payment.telegram_charge_id) is not None:  # bounced before
        return PaymentResult(Outcome.DUPLICATE)
    order = await repo.orders.by_public_id(payment.payload)
    if order is None or payer is None or order.buyer_id != payer.id:
        log.error("payment %s for an order that isn't the payer's: refunding", payment.telegram_charge_id)
        return await _refund_payment(repo, now, None, payment, "unknown-order")
    if (order.currency, order.amount) != (payment.currency, payment.total_amount):
        return await _bounce(repo, now, order, payment, "amount-mismatch")
    for _attempt in range(3):  # the hold sweep may expire the order between our reads: try its new status
        tried = order.status
        try:
            return await _sell(repo, rules, now, order, payment)
        except (_NotSold, IntegrityError):  # IntegrityError: this charge or the ticket's paid order, recorded
            pass  # by a concurrent transaction
        seen = await repo.orders.by_charge_id(payment.telegram_charge_id)
        if seen is not None:  # a concurrent delivery of this very payment recorded it
            return PaymentResult(Outcome.DUPLICATE, order=seen)
        fresh = await repo.orders.by_id(order.id)
        assert fresh is not None
        order = fresh
        if order.status == tried:
            break
    reason = "double-payment" if order.status == OrderStatus.PAID else "ticket-gone"
    return await _bounce(repo, now, order, payment, reason)


async def _sell(repo: Repo, rules: PaymentRules, now: datetime, order: Order, payment: Payment) -> PaymentResult:
    paid = {
        "paid_at": now,
        "telegram_payment_charge_id": payment.telegram_charge_id,
        "provider_payment_charge_id": payment.provider_charge_id,
    }
    unit = await _unit(repo, order.ticket_id)
    async with repo.session.begin_nested():
        if order.status == OrderStatus.PENDING:  # the buyer's own hold (even if just lapsed and not yet swept)
            sold = await repo.orders.move(order.id, [OrderStatus.PENDING], OrderStatus.PAID, **paid)
            sold = sold and await groups.move_unit(
                repo, unit, [TicketStatus.RESERVED], TicketStatus.SOLD, now, buyer_id=order.buyer_id
            )
        elif order.status == OrderStatus.EXPIRED:  # the hold lapsed: fine if nobody else took the tickets
            sold = await groups.move_unit(
                repo, unit, [TicketStatus.ACTIVE], TicketStatus.SOLD, now, buyer_id=order.buyer_id
            )
            sold = sold and await repo.orders.move(order.id, [OrderStatus.EXPIRED], OrderStatus.PAID, **paid)
        else:
            sold = False
        if not sold:
            raise _NotSold
    unit = await _unit(repo, order.ticket_id)
    ticket = unit.lead
    fresh = await repo.orders.by_id(order.id)
    assert fresh is not None
    net = fresh.amount - fresh.fee_amount
    payout = await repo.payouts.add(
        Payout(  # the seller is owed the asking price in the listing's currency, whatever the buyer paid in
            order_id=fresh.id,
            seller_id=ticket.seller_id,
            amount=unit.price * 10 ** minor_units(unit.currency),
            currency=ticket.currency,
            status=PayoutStatus.HELD,
            release_at=ticket.event_at + rules.escrow_time,
        )
    )
    postings = [
        Posting("payment", "buyer", -fresh.amount, fresh.currency, order_id=fresh.id),
        Posting("escrow_hold", "escrow", net, fresh.currency, order_id=fresh.id, payout_id=payout.id),
    ]
    if fresh.fee_amount:
        postings.append(Posting("fee", "platform", fresh.fee_amount, fresh.currency, order_id=fresh.id))
    await repo.ledger.post(postings, now)
    await repo.history.record(unit.ids, TicketStatus.SOLD, actor="buyer", at=now)
    for ticket_id in unit.ids:
        await repo.orders.drop_waiters(ticket_id)
    await relay.close_for_tickets(repo, unit.ids, relay.CloseReason.SOLD, now)
    buyer = await repo.users.by_id(fresh.buyer_id)
    assert buyer is not None
    await waitlist.claimed(repo, ticket, buyer)
    return PaymentResult(Outcome.SOLD, order=fresh, ticket=ticket, payout=payout)


def _bounce_postings(payment: Payment, order_id: int | None) -> list[Posting]:
    """Money in and straight back out: the payment through escrow, then its refund."""
    amount, currency = payment.total_amount, payment.currency
    return [
        Posting("payment", "buyer", -amount, currency, order_id=order_id),
        Posting("payment", "escrow", amount, currency, order_id=order_id),
        Posting("refund", "escrow", -amount, currency, order_id=order_id),
        Posting("refund", "buyer", amount, currency, order_id=order_id),
    ]


async def _bounce(repo: Repo, now: datetime, order: Order, payment: Payment, reason: str) -> PaymentResult:
    """The payer's money goes back: the order (unless another payment already paid it) is refunded with this
    charge, and the payment gets its refund row (done at once for Stars by the caller) and ledger rows."""
    charge = {
        "paid_at": now,
        "telegram_payment_charge_id": payment.telegram_charge_id,
        "provider_payment_charge_id": payment.provider_charge_id,
    }
    try:
        async with repo.session.begin_nested():
            held = await repo.orders.move(order.id, [OrderStatus.PENDING], OrderStatus.REFUNDED, **charge)
            if not held:
                await repo.orders.move(
                    order.id, [OrderStatus.EXPIRED, OrderStatus.CANCELLED], OrderStatus.REFUNDED, **charge
                )
    except IntegrityError:  # a concurrent delivery of the same payment recorded it first
        seen = await repo.orders.by_charge_id(payment.telegram_charge_id)
        return PaymentResult(Outcome.DUPLICATE, order=seen)
    # A pending order holds its unit (one pending order per ticket): its end frees every ticket of it.
    if held:
        unit = await _unit(repo, order.ticket_id)
        if await groups.move_unit(repo, unit, [TicketStatus.RESERVED], TicketStatus.ACTIVE, now):
            await repo.history.record(unit.ids, TicketStatus.ACTIVE, actor="system", at=now, reason=reason)
    return await _refund_payment(repo, now, order, payment, reason)


async def _refund_payment(
    repo: Repo, now: datetime, order: Order | None, payment: Payment, reason: str
) -> PaymentResult:
    """The payment's refund row and its ledger rows (money in and straight back out), once per charge."""
    refund = await repo.orders.add_refund(
        Refund(
            order_id=order.id if order else None,
            telegram_payment_charge_id=payment.telegram_charge_id,
            provider_payment_charge_id=payment.provider_charge_id,
            payer_telegram_id=payment.payer_telegram_id,
            amount=payment.total_amount,
            currency=payment.currency,
            reason=reason,
            created_at=now,
        )
    )
    if refund is None:  # a concurrent delivery of this very payment bounced it first
        return PaymentResult(Outcome.DUPLICATE, order=order)
    await repo.ledger.post(_bounce_postings(payment, order.id if order else None), now)
    fresh = await repo.orders.by_id(order.id) if order else None
    return PaymentResult(Outcome.REFUND, order=fresh, refund=refund, reason=reason)


async def complete_refund(repo: Repo, now: datetime, refund_id: int, done_by: int | None = None) -> bool:
    """A refund actually went back to the payer (Stars: refundStarPayment succeeded; provider: an admin did it)."""
    return await repo.orders.complete_refund(refund_id, now, done_by)


# --- reads and small writes the handlers need (handlers reach data only through services) ---------------------
async def ticket_by_id(repo: Repo, ticket_id: int) -> Ticket | None:
    return await repo.orders.ticket(ticket_id)


async def take_waiters(repo: Repo, ticket_ids: Sequence[int]) -> list[tuple[Ticket, User]]:
    """Everyone waiting for these tickets, each with the ticket; the waits are taken (each waiter is told once)."""
    taken: list[tuple[Ticket, User]] = []
    for ticket_id, waiter in await repo.orders.take_waiters(ticket_ids):
        found = await repo.orders.ticket(ticket_id)
        if found is not None:
            taken.append((found, waiter))
    return taken


async def purchases(repo: Repo, buyer: User, limit: int) -> list[Purchase]:
    return await repo.orders.purchases(buyer.id, limit)


async def paid_purchase(repo: Repo, buyer: User, order_id: int) -> tuple[Order, Ticket]:
    """The buyer's own paid order and its ticket, to deliver again."""
    order = await repo.orders.by_id(order_id)
    if order is None or order.buyer_id != buyer.id or order.status != OrderStatus.PAID:
        raise DomainError("purchases-not-yours")
    found = await repo.orders.ticket(order.ticket_id)
    assert found is not None
    return order, found


async def pending_refunds(repo: Repo, limit: int) -> list[PendingRefund]:
    return await repo.orders.pending_refunds(limit)


async def refund_task(repo: Repo, refund_id: int) -> Refund | None:
    return await repo.orders.refund(refund_id)


async def refunded_by_hand(repo: Repo, now: datetime, refund_id: int, admin_id: int) -> None:
    """An admin made a provider refund by hand: the task is done, and audited."""
    await complete_refund(repo, now, refund_id, admin_id)
    await repo.audit.record(admin_id, "refund_done", "refund", refund_id, now)
