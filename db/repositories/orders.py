"""Orders, holds, refunds and waiters. Every status change is a conditional UPDATE that reports whether it
happened, so two buyers (or two deliveries of one payment) can never both win. The hold sweep's change is set-based
(one UPDATE ... RETURNING over every order due, claimed with FOR UPDATE SKIP LOCKED on PostgreSQL): the rows one call
returns are exactly those it changed, so another bot instance sweeping at the same moment gets none of them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from db.direct import Direct, adopt
from db.engine import rowcount
from db.models import (
    Base,
    Dispute,
    Order,
    OrderStatus,
    Payout,
    Refund,
    RefundStatus,
    Ticket,
    TicketOffer,
    TicketStatus,
    TicketWaiter,
    User,
)

T = TypeVar("T")

# Buy's read of the buyer's orders of a ticket, compiled once (db.direct). The pending and unexpired one is picked
# by live_hold: in SQL, SQLite's planner takes the (status, expires_at) index and walks every pending order.
_ORDERS_OF_BUYER = Direct(
    select(Order).where(Order.ticket_id == bindparam("ticket"), Order.buyer_id == bindparam("buyer")).order_by(Order.id)
)


# A ticket by id (OrderRepository.ticket), compiled once; its columns are the tickets table's, in order, as the
# RETURNING of a move (_move_ticket) gives them back.
_TICKET = Direct(select(Ticket).where(Ticket.id == bindparam("ticket")))
_TICKETS_TABLE = Base.metadata.tables[Ticket.__tablename__]
_TICKETS = _TICKETS_TABLE.c
assert [column.key for column in _TICKET.statement.exported_columns] == [column.key for column in _TICKETS]


@functools.cache
def _move_ticket(event_ahead: bool, not_sellers: bool, sold: bool) -> Direct:
    """OrderRepository.move_ticket's conditional UPDATE ... RETURNING the ticket, built and compiled once for each
    set of its conditions (db.direct: the ORM's UPDATE of the entity and its loading cost ~0.6 ms more)."""
    at = bindparam("now", type_=_TICKETS.updated_at.type)
    status = _TICKETS.status.type
    conditions = [_TICKETS.id == bindparam("ticket"), _TICKETS.status == bindparam("before", type_=status)]
    values: dict[str, object] = {"status": bindparam("after", type_=status), "updated_at": at}
    if event_ahead:
        conditions.append(_TICKETS.event_at > at)
    if not_sellers:
        conditions.append(_TICKETS.seller_id != bindparam("buyer"))
    if sold:
        values |= {"buyer_id": bindparam("buyer"), "sold_at": at}
    return Direct(update(_TICKETS_TABLE).where(*conditions).values(**values).returning(*_TICKETS))


# Buy's hold of a ticket sold alone in one statement (OrderRepository.hold_alone).
_at = bindparam("now", type_=_TICKETS.event_at.type)
_HOLD_ALONE = Direct(
    update(_TICKETS_TABLE)
    .where(
        _TICKETS.id == bindparam("ticket"),
        _TICKETS.status == TicketStatus.ACTIVE,
        _TICKETS.event_at > _at,
        _TICKETS.seller_id != bindparam("buyer"),
        _TICKETS.group_id.is_(None),
        _TICKETS.currency == bindparam("currency"),
        ~exists().where(TicketOffer.ticket_id == _TICKETS.id),
    )
    .values(status=TicketStatus.RESERVED, updated_at=_at)
    .returning(*_TICKETS)
)


async def _autoflush(session: AsyncSession) -> None:
    """What the ORM flushes before its own statements: the session's pending changes (a ticket changed in memory),
    before a statement through db.direct that reads a ticket back into the session (_fresh overwrites it)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()


def _fresh(session: AsyncSession, instance: T) -> T:
    """`instance` (Direct.instance: a row as read now) as the session's own, as `populate_existing` gives it: the
    object the session already holds for its identity with every column overwritten by the row's (committed: nothing
    to flush), or else `instance` itself, added (persistent, no INSERT)."""
    known = adopt(session, instance)
    if known is not instance:
        state = inspect(instance)
        for attribute in state.mapper.column_attrs:
            set_committed_value(known, attribute.key, state.dict[attribute.key])
    return known


_ORDERS_TABLE = Base.metadata.tables[Order.__tablename__]
_ORDER_COLUMNS = _ORDERS_TABLE.c
_STATUS, _EXPIRES = (
    list(_ORDER_COLUMNS).index(column) for column in (_ORDER_COLUMNS.status, _ORDER_COLUMNS.expires_at)
)
# What the unit of work writes for a column the new order leaves unset: its scalar default, else NULL.
_ORDER_DEFAULTS = {
    column.key: column.default.arg if isinstance(column.default, ScalarElementColumnDefault) else None
    for column in _ORDER_COLUMNS
    if column.key != "id"
}
_ADD_ORDER = Direct(
    insert(_ORDERS_TABLE)
    .values({key: bindparam(key, type_=_ORDER_COLUMNS[key].type) for key in _ORDER_DEFAULTS})
    .returning(_ORDER_COLUMNS.id)
)
# The columns whose None the unit of work hands to the type (a JSON column writes JSON null, not SQL NULL).
_JSON_NONE = {key: JSON.NULL for key in _ORDER_DEFAULTS if isinstance(_ORDER_COLUMNS[key].type, JSON)}


def bare_update(entity: type[Base]) -> Update:
    """An UPDATE that leaves the objects already loaded in the session alone: the callers re-read what they show,
    and a rolled-back savepoint then has no in-memory changes to expire."""
    return update(entity).execution_options(synchronize_session=False)


@dataclass(frozen=True)
class Sales:
    """Paid orders in a period: how many, and the money taken per currency (smallest unit)."""

    count: int
    turnover: dict[str, int]


@dataclass(frozen=True)
class LapsedHold:
    order_id: int
    ticket_id: int
    buyer_id: int


@dataclass(frozen=True)
class Purchase:
    order: Order
    ticket: Ticket
    payout: Payout | None
    dispute: Dispute | None


@dataclass(frozen=True)
class PendingRefund:
    refund: Refund
    order: Order | None  # None: a payment for no order of ours
    payer: User | None  # None: the payer has no account


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- reading -------------------------------------------------------------------------------------------
    async def ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket as it is now in the database (not a stale copy from earlier in the session): the session's own
        object, as `session.get(..., populate_existing=True)` gives it, read through db.direct."""
        await _autoflush(self.session)
        found = await _TICKET.rows(self.session, {"ticket": ticket_id})
        return _fresh(self.session, _TICKET.instance(Ticket, found[0])) if found else None

    async def by_id(self, order_id: int) -> Order | None:
        return await self.session.get(Order, order_id, populate_existing=True)

    async def by_ids(self, order_ids: Sequence[int]) -> dict[int, Order]:
        if not order_ids:
            return {}
        return {order.id: order for order in await self.session.scalars(select(Order).where(Order.id.in_(order_ids)))}

    async def by_public_id(self, public_id: str) -> Order | None:
        query = select(Order).where(Order.public_id == public_id).execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_charge_id(self, telegram_payment_charge_id: str) -> Order | None:
        query = select(Order).where(Order.telegram_payment_charge_id == telegram_payment_charge_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def live_hold(self, ticket_id: int, buyer_id: int, now: datetime) -> Order | None:
        """The buyer's pending, unexpired order for this ticket, if any."""
        rows = await _ORDERS_OF_BUYER.rows(self.session, {"ticket": ticket_id, "buyer": buyer_id})
        live = next((row for row in rows if row[_STATUS] == OrderStatus.PENDING and row[_EXPIRES] > now), None)
        return adopt(self.session, _ORDERS_OF_BUYER.instance(Order, live)) if live is not None else None

    async def purchases(self, buyer_id: int, limit: int) -> list[Purchase]:
        """The buyer's paid and refunded orders, newest first, with ticket, payout and dispute."""
        query = (
            select(Order, Ticket, Payout, Dispute)
            .join(Ticket, Ticket.id == Order.ticket_id)
            .outerjoin(Payout, Payout.order_id == Order.id)
            .outerjoin(Dispute, Dispute.order_id == Order.id)
            .where(Order.buyer_id == buyer_id, Order.status.in_([OrderStatus.PAID, OrderStatus.REFUNDED]))
            .where(Order.paid_at.is_not(None))
            .order_by(Order.paid_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return [Purchase(*row) for row in (await self.session.execute(query)).all()]

    async def pending_order_of(self, ticket_id: int) -> Order | None:
        query = select(Order).where(Order.ticket_id == ticket_id, Order.status == OrderStatus.PENDING)
        return (await self.session.execute(query.execution_options(populate_existing=True))).scalars().first()

    async def tickets_of_orders(self, order_ids: Sequence[int]) -> dict[int, Ticket]:
        """The tickets of these orders, by order id."""
        if not order_ids:
            return {}
        query = select(Order.id, Ticket).join(Ticket, Ticket.id == Order.ticket_id).where(Order.id.in_(order_ids))
        return {order_id: ticket for order_id, ticket in await self.session.execute(query)}

    async def sales(self, since: datetime | None) -> Sales:
        """Orders paid since `since` (ever, when None) and still paid (not refunded)."""
        conditions: list[ColumnElement[bool]] = [Order.status == OrderStatus.PAID]
        if since is not None:
            conditions.append(Order.paid_at >= since)
        query = select(Order.currency, func.count(Order.id), func.sum(Order.amount)).where(*conditions)
        rows = (await self.session.execute(query.group_by(Order.currency).order_by(Order.currency))).all()
        return Sales(sum(int(count) for _, count, _ in rows), {currency: int(total) for currency, _, total in rows})

    # --- holds ---------------------------------------------------------------------------------------------
    async def move_ticket(
        self, ticket_id: int, before: TicketStatus, after: TicketStatus, now: datetime, *, buyer_id: int | None = None
    ) -> bool:
        """Ticket `before` -> `after` (sold: with its buyer and sale time) if it is still `before`. For a hold or
        a sale the event must also still be ahead. The ticket as the session holds it is refreshed from the
        UPDATE's RETURNING when it moved (no second read to show it)."""
        event_ahead = after in (TicketStatus.RESERVED, TicketStatus.SOLD) and before == TicketStatus.ACTIVE
        not_sellers = after == TicketStatus.RESERVED and buyer_id is not None
        statement = _move_ticket(event_ahead, not_sellers, after == TicketStatus.SOLD)
        params = {"ticket": ticket_id, "before": before, "after": after, "now": now, "buyer": buyer_id}
        await _autoflush(self.session)
        rows = await statement.write(self.session, params)
        if len(rows) != 1:
            return False
        _fresh(self.session, _TICKET.instance(Ticket, rows[0]))
        return True

    async def hold_alone(self, ticket_id: int, buyer_id: int, currency: str, now: datetime) -> Ticket | None:
        """Buy's hold in one conditional UPDATE, for a ticket sold alone (in no group), on sale, never offered to a
        waiter, not the buyer's own, in `currency`, its event still ahead: active -> reserved. The ticket as the
        session holds it, refreshed from the RETURNING; None when it is not all of that (nothing changed)."""
        params = {"ticket": ticket_id, "buyer": buyer_id, "currency": currency, "now": now}
        await _autoflush(self.session)
        rows = await _HOLD_ALONE.write(self.session, params)
        return _fresh(self.session, _TICKET.instance(Ticket, rows[0])) if rows else None

    async def add(self, order: Order) -> Order:
        """The new order written at once and made the session's own (persistent, as if loaded): one Core INSERT of
        every column, as the unit of work writes it (the values given, else the column defaults), RETURNING its id
        (a flush of a new object through the unit of work costs ~0.5 ms more)."""
        given = inspect(order).dict
        values = {key: given.get(key, default) for key, default in _ORDER_DEFAULTS.items()}
        given.update(values)  # every column loaded: nothing left to load lazily once it is persistent
        nulls = {key: null for key, null in _JSON_NONE.items() if values[key] is None}
        [(given["id"],)] = await _ADD_ORDER.write(self.session, values | nulls)
        make_transient_to_detached(order)
        self.session.add(order)
        return order

    async def move(self, order_id: int, before: Sequence[OrderStatus], after: OrderStatus, **values: object) -> bool:
        """Order -> `after` (with `values`) if its status is one of `before`."""
        statement = (
            bare_update(Order).where(Order.id == order_id, Order.status.in_(before)).values(status=after, **values)
        )
        result = await self.session.execute(statement)
        return rowcount(result) == 1

    async def expire_holds(self, now: datetime, *, ticket_id: int | None = None) -> list[LapsedHold]:
        """Pending orders past their hold (all, or this ticket's) -> expired; those this call expired."""
        conditions = [Order.status == OrderStatus.PENDING, Order.expires_at <= now]
        if ticket_id is not None:
            conditions.append(Order.ticket_id == ticket_id)
        due = select(Order.id).where(*conditions).with_for_update(skip_locked=True)
        statement = (
            bare_update(Order)
            .where(Order.id.in_(due), Order.status == OrderStatus.PENDING)
            .values(status=OrderStatus.EXPIRED)
            .returning(Order.id, Order.ticket_id, Order.buyer_id)
        )
        rows = await self.session.execute(statement)
        return sorted((LapsedHold(*row) for row in rows), key=lambda hold: hold.order_id)

    async def cancel_orders_of(self, user_id: int) -> list[tuple[int, int, int]]:
        """Pending orders the user placed as a buyer, or on the user's tickets -> cancelled, in one statement;
        (order id, ticket id, buyer id) of those this call cancelled."""
        own_tickets = select(Ticket.id).where(Ticket.seller_id == user_id).scalar_subquery()
        statement = (
            bare_update(Order)
            .where(
                Order.status == OrderStatus.PENDING,
                or_(Order.buyer_id == user_id, Order.ticket_id.in_(own_tickets)),
            )
            .values(status=OrderStatus.CANCELLED)
            .returning(Order.id, Order.ticket_id, Order.buyer_id)
        )
        return sorted(tuple(row) for row in await self.session.execute(statement))  # type: ignore[misc]

    # --- refunds -------------------------------------------------------------------------------------------
    async def add_refund(self, refund: Refund) -> Refund | None:
        """None when this payment (its charge id) already has a refund: a payment is given back once."""
        if await self.refund_of_charge(refund.telegram_payment_charge_id) is not None:
            return None
        try:
            async with self.session.begin_nested():
                self.session.add(refund)
        except IntegrityError:  # a concurrent transaction wrote it first
            return None
        return refund

    async def refund_of_charge(self, telegram_payment_charge_id: str | None) -> Refund | None:
        if telegram_payment_charge_id is None:
            return None
        query = select(Refund).where(Refund.telegram_payment_charge_id == telegram_payment_charge_id)
        return await self.session.scalar(query)

    async def refund(self, refund_id: int) -> Refund | None:
        return await self.session.get(Refund, refund_id, populate_existing=True)

    async def complete_refund(self, refund_id: int, now: datetime, done_by: int | None) -> bool:
        statement = (
            bare_update(Refund)
            .where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
            .values(status=RefundStatus.DONE, done_at=now, done_by=done_by)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def pending_refunds(self, limit: int) -> list[PendingRefund]:
        query = (
            select(Refund, Order, User)
            .outerjoin(Order, Order.id == Refund.order_id)
            .outerjoin(User, User.telegram_id == Refund.payer_telegram_id)
            .where(Refund.status == RefundStatus.PENDING)
            .order_by(Refund.created_at, Refund.id)
            .limit(limit)
        )
        return [PendingRefund(*row) for row in (await self.session.execute(query)).all()]

    # --- waiters -------------------------------------------------------------------------------------------
    async def add_waiter(self, ticket_id: int, user_id: int, now: datetime) -> None:
        exists = select(TicketWaiter).where(TicketWaiter.ticket_id == ticket_id, TicketWaiter.user_id == user_id)
        if (await self.session.execute(exists)).first() is not None:
            return
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    insert(TicketWaiter).values(ticket_id=ticket_id, user_id=user_id, created_at=now)
                )
        except IntegrityError:  # a double tap racing itself: the primary key keeps one row
            pass

    async def take_waiters(self, ticket_ids: Sequence[int]) -> list[tuple[int, User]]:
        """(ticket id, user) of everyone waiting for these tickets. The rows are deleted by the same statement
        that reads them, so with several bot instances each waiter is handed out once."""
        if not ticket_ids:
            return []
        statement = (
            delete(TicketWaiter)
            .where(TicketWaiter.ticket_id.in_(ticket_ids))
            .returning(TicketWaiter.ticket_id, TicketWaiter.user_id)
        )
        pairs = sorted((ticket_id, user_id) for ticket_id, user_id in await self.session.execute(statement))
        if not pairs:
            return []
        users = await self.session.execute(select(User).where(User.id.in_({user_id for _, user_id in pairs})))
        by_id = {user.id: user for user in users.scalars()}
        return [(ticket_id, by_id[user_id]) for ticket_id, user_id in pairs]

    async def drop_waiters(self, ticket_id: int) -> None:
        await self.session.execute(delete(TicketWaiter).where(TicketWaiter.ticket_id == ticket_id))
