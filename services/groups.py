"""Listings of 2-8 tickets of one event: "sold separately" (each ticket on its own) or "sold together" (adjacent
seats: one price, one hold, one order, one invoice, never sold in part).

A together-group moves as a unit: every status change of its tickets is one conditional UPDATE over the group inside
a savepoint, kept only when it moved every ticket of the group; otherwise it is rolled back and reported as not done.
The order of a together-group points at its lead ticket (the lowest id), so uq_orders_paid_ticket still allows one
paid order per group. A payment that can't buy every ticket is refunded in full."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from db.models import (
    GroupMode,
    ListingGroup,
    Order,
    OrderStatus,
    Payout,
    PayoutStatus,
    Ticket,
    TicketStatus,
    User,
)
from db.repo import Repo
from db.repositories.ledger import Posting
from services import orders, waitlist
from services.errors import DomainError
from services.orders import Charge, Outcome, Payment, PaymentResult, minor_units

MIN_SIZE, MAX_SIZE = 2, 8

ERROR_CODES = (
    "group-size",
    "group-tickets",
    "group-event",
    "group-price",
    "group-own",
    "group-gone",
    "group-reserved",
    "group-offered",
)


class _Partial(Exception):
    """A together-group's tickets did not all move: the savepoint is rolled back."""


async def create_group(
    repo: Repo,
    now: datetime,
    seller: User,
    ticket_ids: Sequence[int],
    mode: GroupMode,
    *,
    total_price: int | None = None,
    max_markup_percent: int = 0,
) -> ListingGroup:
    """Group the seller's just-published tickets (each went through every barcode check as a single listing).
    Together: `total_price` is the group's one price, capped like a single ticket's (the sum of the face values
    plus MAX_MARKUP_PERCENT); it is spread over the tickets so that their prices add up to it."""
    ids = sorted(set(ticket_ids))
    if not MIN_SIZE <= len(ids) <= MAX_SIZE:
        raise DomainError("group-size", low=MIN_SIZE, high=MAX_SIZE)
    tickets = [await repo.orders.ticket(ticket_id) for ticket_id in ids]
    if any(t is None or t.seller_id != seller.id or t.status != TicketStatus.ACTIVE or t.group_id for t in tickets):
        raise DomainError("group-tickets")
    found = [t for t in tickets if t is not None]
    if len({(t.event_key, t.currency) for t in found}) != 1 or found[0].event_key is None:
        raise DomainError("group-event")
    if mode == GroupMode.TOGETHER:
        cap = sum(t.face_value for t in found) * (100 + max_markup_percent) // 100
        if total_price is None or not 1 <= total_price <= cap:
            raise DomainError("group-price", cap=cap)
    group = await repo.groups.add(ListingGroup(seller_id=seller.id, mode=mode, size=len(ids), created_at=now))
    if await repo.groups.join(group.id, ids, seller.id) != len(ids):
        raise DomainError("group-tickets")  # the caller rolls back: a ticket changed meanwhile
    if mode == GroupMode.TOGETHER and total_price is not None:
        share, rest = divmod(total_price, len(ids))
        for n, ticket_id in enumerate(ids):
            await repo.groups.set_price(ticket_id, share + (rest if n == 0 else 0))
    return group


@dataclass(frozen=True)
class Unit:
    """What one Buy takes: a single ticket, or a together-group's every ticket (the lead first)."""

    lead: Ticket
    tickets: list[Ticket]
    group_id: int | None

    @property
    def price(self) -> int:
        return sum(ticket.price for ticket in self.tickets)

    @property
    def ids(self) -> list[int]:
        return [ticket.id for ticket in self.tickets]


@dataclass(frozen=True)
class SeatSpan:
    """The seats of a unit for its card ("Row 5, seats 12-13"): section and row when all tickets share them."""

    section: str | None
    row: str | None
    first: str | None
    last: str | None


def seat_span(tickets: Sequence[Ticket]) -> SeatSpan:
    def number_order(seat: str) -> tuple[int, int | str]:
        return (0, int(seat)) if seat.isdigit() else (1, seat)

    sections = {t.seat_section for t in tickets}
    rows = {t.seat_row for t in tickets}
    seats = sorted((t.seat_number for t in tickets if t.seat_number), key=number_order)
    return SeatSpan(
        sections.pop() if len(sections) == 1 else None,
        rows.pop() if len(rows) == 1 else None,
        seats[0] if seats else None,
        seats[-1] if seats else None,
    )


async def unit_of(repo: Repo, ticket_id: int) -> Unit | None:
    """The unit a ticket is sold in: for any ticket of a together-group, the whole group."""
    ticket = await repo.orders.ticket(ticket_id)
    if ticket is None:
        return None
    group = await repo.groups.by_id(ticket.group_id) if ticket.group_id else None
    if group is None or group.mode != GroupMode.TOGETHER:
        return Unit(ticket, [ticket], None)
    tickets = await repo.groups.tickets(group.id)
    return Unit(tickets[0], tickets, group.id)


async def move_unit(
    repo: Repo,
    unit: Unit,
    before: Sequence[TicketStatus],
    after: TicketStatus,
    now: datetime,
    *,
    buyer_id: int | None = None,
) -> bool:
    """Every ticket of the unit from one of `before` to `after`, or none: True when all moved."""
    if unit.group_id is None:
        for status in before:
            if await repo.orders.move_ticket(unit.lead.id, status, after, now, buyer_id=buyer_id):
                return True
        return False
    try:
        async with repo.session.begin_nested():
            moved = await repo.groups.move_tickets(unit.group_id, before, after, now, buyer_id)
            if len(moved) != len(unit.tickets):
                raise _Partial
    except _Partial:
        return False
    return True


async def reopen_together(repo: Repo, reopened_ticket_ids: Sequence[int], now: datetime) -> list[int]:
    """After a hold of a group ended (the hold sweep reopened its lead ticket): the group's other tickets back on
    sale too; their ids. The hold sweep calls it with the ids it reopened."""
    return await repo.groups.reopen_groups(await repo.groups.together_groups(reopened_ticket_ids), now)


# --- the hold and the payment of a together-group ------------------------------------------------------------
@dataclass(frozen=True)
class GroupHold:
    order: Order
    unit: Unit
    charge: Charge
    new: bool = True


async def hold(
    repo: Repo,
    now: datetime,
    buyer: User,
    ticket_id: int,
    *,
    charge_for: Callable[[int, str], Charge],
    hold_minutes: int,
) -> GroupHold:
    """Reserve every ticket of the unit for the buyer and open one pending order for the sum of their prices
    (`charge_for(price, currency)` is what the invoice charges for a price in the listing's currency)."""
    unit = await unit_of(repo, ticket_id)
    if unit is None:
        raise DomainError("group-gone")
    if unit.lead.seller_id == buyer.id:
        raise DomainError("group-own")
    own = await repo.orders.live_hold(unit.lead.id, buyer.id, now)
    if own is not None:
        return GroupHold(own, unit, Charge(own.currency, own.amount - own.fee_amount, own.fee_amount), new=False)
    if not await waitlist.may_buy(repo, unit.lead.id, buyer, now):
        raise DomainError("group-offered")  # a waiter's claim window on it is open
    charge = charge_for(unit.price, unit.lead.currency)
    if not await move_unit(repo, unit, [TicketStatus.ACTIVE], TicketStatus.RESERVED, now):
        fresh = await unit_of(repo, ticket_id)
        reserved = fresh is not None and any(t.status == TicketStatus.RESERVED for t in fresh.tickets)
        raise DomainError("group-reserved" if reserved else "group-gone")
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
            expires_at=now + timedelta(minutes=hold_minutes),
        )
    )
    await repo.history.record(unit.ids, TicketStatus.RESERVED, actor="buyer", at=now)
    return GroupHold(order, unit, charge)


async def record_payment(
    repo: Repo, now: datetime, payer: User | None, payment: Payment, *, escrow_hours: int
) -> PaymentResult:
    """A successful payment for a group's order: every ticket sold to the buyer in one transaction, or (any ticket
    gone) the whole payment refunded. Idempotent on the Telegram charge id."""
    seen = await repo.orders.by_charge_id(payment.telegram_charge_id)
    if seen is not None or await repo.orders.refund_of_charge(payment.telegram_charge_id) is not None:
        return PaymentResult(Outcome.DUPLICATE, order=seen)
    order = await repo.orders.by_public_id(payment.payload)
    if order is None or payer is None or order.buyer_id != payer.id:
        return await _refund(repo, now, None, payment, "unknown-order")
    if (order.currency, order.amount) != (payment.currency, payment.total_amount):
        return await _refund(repo, now, order, payment, "amount-mismatch")
    unit = await unit_of(repo, order.ticket_id)
    assert unit is not None
    paid = {
        "paid_at": now,
        "telegram_payment_charge_id": payment.telegram_charge_id,
        "provider_payment_charge_id": payment.provider_charge_id,
    }
    try:
        async with repo.session.begin_nested():
            # The buyer's own hold (its tickets reserved), or a lapsed one whose tickets nobody took meanwhile (back
            # on sale). An order the sweep ended between our read and this update is refunded: never a wrong sale.
            if order.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED):
                raise _Partial
            if not await repo.orders.move(order.id, [order.status], OrderStatus.PAID, **paid):
                raise _Partial
            before = [TicketStatus.RESERVED] if order.status == OrderStatus.PENDING else [TicketStatus.ACTIVE]
            if not await move_unit(repo, unit, before, TicketStatus.SOLD, now, buyer_id=order.buyer_id):
                raise _Partial
    except (_Partial, IntegrityError):
        seen = await repo.orders.by_charge_id(payment.telegram_charge_id)
        if seen is not None:  # a concurrent delivery of this very payment recorded it
            return PaymentResult(Outcome.DUPLICATE, order=seen)
        fresh = await repo.orders.by_id(order.id)
        assert fresh is not None
        return await _refund(
            repo, now, fresh, payment, "double-payment" if fresh.status == OrderStatus.PAID else "ticket-gone"
        )
    net = order.amount - order.fee_amount
    payout = await repo.payouts.add(
        Payout(
            order_id=order.id,
            seller_id=unit.lead.seller_id,
            amount=unit.price * 10 ** minor_units(unit.lead.currency),
            currency=unit.lead.currency,
            status=PayoutStatus.HELD,
            release_at=unit.lead.event_at + timedelta(hours=escrow_hours),
        )
    )
    postings = [
        Posting("payment", "buyer", -order.amount, order.currency, order_id=order.id),
        Posting("escrow_hold", "escrow", net, order.currency, order_id=order.id, payout_id=payout.id),
    ]
    if order.fee_amount:
        postings.append(Posting("fee", "platform", order.fee_amount, order.currency, order_id=order.id))
    await repo.ledger.post(postings, now)
    await repo.history.record(unit.ids, TicketStatus.SOLD, actor="buyer", at=now)
    return PaymentResult(Outcome.SOLD, order=await repo.orders.by_id(order.id), ticket=unit.lead, payout=payout)


async def _refund(repo: Repo, now: datetime, order: Order | None, payment: Payment, reason: str) -> PaymentResult:
    """The whole payment goes back: a pending order ends (its tickets back on sale) and the charge gets its refund
    row and its ledger rows (in and straight out)."""
    if order is not None and await repo.orders.move(order.id, [OrderStatus.PENDING], OrderStatus.REFUNDED):
        unit = await unit_of(repo, order.ticket_id)
        assert unit is not None
        if await move_unit(repo, unit, [TicketStatus.RESERVED], TicketStatus.ACTIVE, now):
            await repo.history.record(unit.ids, TicketStatus.ACTIVE, actor="system", at=now, reason=reason)
    elif order is not None:
        await repo.orders.move(order.id, [OrderStatus.EXPIRED, OrderStatus.CANCELLED], OrderStatus.REFUNDED)
    # The refund row and its ledger rows are orders' own (one place for how a payment goes back).
    return await orders._refund_payment(repo, now, order, payment, reason)
