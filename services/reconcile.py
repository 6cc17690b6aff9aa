"""Reconciliation with Telegram's own record of Stars payments (getStarTransactions), at start-up and every few
minutes: every incoming charge must have an effect here.

- A charge with no order effect (its successful_payment was lost: a crash before it was recorded) goes through the
  same rule as a delivered payment (services.orders.record_payment): the sale when the order can still be honoured,
  otherwise a refund row; its deliveries go to the outbox in the same transaction.
- A pending Stars refund is completed: done when Telegram's record already shows it (we crashed after asking),
  otherwise asked for now (refundStarPayment); one Telegram refuses stays pending and becomes an admin task.
- A provider (card) charge reported without an effect is not sold blindly: it becomes an admin refund task.

Each finding is a row (services' audit, counted for /admin), once per (charge, kind). Idempotent: a second run finds
nothing to do. Safe on several instances: PostgreSQL runs one reconciliation at a time (an advisory lock; the others
skip), and every step is idempotent on the charge id anyway. Telegram is reached through the `StarLedger` port, so
this module knows nothing of aiogram."""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import ReconcileFinding, Refund, RefundStatus
from db.repo import Repo
from services import deliveries, orders
from services.rules import PaymentRules

log = logging.getLogger(__name__)

PAGE = 100  # getStarTransactions' largest page
LOCK_KEY = 0x5742_5243  # the advisory lock of a reconciliation run on PostgreSQL


class Finding(enum.StrEnum):
    SOLD = "sold"  # a charge with no effect, recorded as the sale
    REFUND_RECORDED = "refund-recorded"  # a charge with no effect that couldn't buy its ticket: refund row written
    REFUNDED = "refunded"  # a pending Stars refund done (asked now or found done in Telegram's record)
    REFUND_REFUSED = "refund-refused"  # Telegram refused a Stars refund: an admin task
    ADMIN_TASK = "admin-task"  # a provider charge with no effect: an admin refund task


# --- the port -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerEntry:
    """One Stars transaction as Telegram records it: a charge coming in from a user, or a refund going back."""

    charge_id: str
    amount: int
    date: datetime
    incoming: bool
    payer_telegram_id: int | None = None
    payload: str | None = None


class RefundOutcome(enum.Enum):
    DONE = "done"  # refunded now, or it had been (CHARGE_ALREADY_REFUNDED)
    REFUSED = "refused"  # Telegram won't (CHARGE_NOT_FOUND...): an admin looks at it
    LATER = "later"  # Telegram failed (5xx, network): the next run asks again


class StarLedger(Protocol):
    async def page(self, offset: int, limit: int) -> Sequence[LedgerEntry]:
        """Transactions newest first, from `offset`."""

    async def refund(self, payer_telegram_id: int, charge_id: str) -> RefundOutcome: ...


# --- a run ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    ran: bool  # False: another instance was reconciling
    charges: int = 0  # incoming charges read
    matched: int = 0  # ... with an effect already
    found: dict[Finding, int] | None = None


async def read_ledger(ledger: StarLedger, since: datetime) -> list[LedgerEntry]:
    """Every transaction since `since`, page by page. Newest first: one arriving meanwhile shifts the pages down,
    so an entry may be read twice (kept once) but none is missed."""
    entries: dict[tuple[str, bool], LedgerEntry] = {}
    offset = 0
    while True:
        page = await ledger.page(offset, PAGE)
        for entry in page:
            entries.setdefault((entry.charge_id, entry.incoming), entry)
        if len(page) < PAGE or page[-1].date < since:
            break
        offset += len(page)
    return [entry for entry in entries.values() if entry.date >= since]


async def reconcile_stars(
    sessionmaker: async_sessionmaker[AsyncSession],
    ledger: StarLedger,
    rules: PaymentRules,
    admin_ids: Sequence[int],
    now: datetime,
    lookback: timedelta = timedelta(days=30),
) -> Report:
    """One reconciliation run (see the module's docstring). `rules` is what orders.record_payment takes."""
    async with sessionmaker() as lock_session:
        if not await _try_lock(lock_session):
            return Report(ran=False)
        try:
            return await _run(sessionmaker, ledger, rules, admin_ids, now, lookback)
        finally:
            await _unlock(lock_session)


async def _run(
    sessionmaker: async_sessionmaker[AsyncSession],
    ledger: StarLedger,
    rules: PaymentRules,
    admin_ids: Sequence[int],
    now: datetime,
    lookback: timedelta,
) -> Report:
    entries = await read_ledger(ledger, now - lookback)
    refunded = {entry.charge_id for entry in entries if not entry.incoming}
    found: dict[Finding, int] = dict.fromkeys(Finding, 0)
    charges = [entry for entry in entries if entry.incoming]
    matched = 0
    for charge in sorted(charges, key=lambda entry: entry.date):
        async with sessionmaker() as session:
            finding = await _settle_charge(Repo(session), rules, admin_ids, now, charge)
            await session.commit()
        if finding is None:
            matched += 1
        else:
            found[finding] += 1
    async with sessionmaker() as session:
        pending = await _pending_star_refunds(session)
    for refund in pending:
        finding = await _complete_refund(
            sessionmaker, ledger, admin_ids, now, refund, refund.telegram_payment_charge_id in refunded
        )
        if finding is not None:
            found[finding] += 1
    report = Report(True, len(charges), matched, found)
    if any(found.values()):
        log.warning("reconciliation: %s", {kind.value: n for kind, n in found.items() if n})
    return report


async def _settle_charge(
    repo: Repo, rules: PaymentRules, admin_ids: Sequence[int], now: datetime, charge: LedgerEntry
) -> Finding | None:
    """A charge's effect, recorded now if it has none; the finding, or None when it had one already."""
    if await repo.orders.by_charge_id(charge.charge_id) or await repo.orders.refund_of_charge(charge.charge_id):
        return None
    payer = await repo.users.by_telegram_id(charge.payer_telegram_id) if charge.payer_telegram_id else None
    payment = orders.Payment(
        payload=charge.payload or "",
        currency=orders.STARS,
        total_amount=charge.amount,
        telegram_charge_id=charge.charge_id,
        payer_telegram_id=charge.payer_telegram_id,
    )
    result = await orders.record_payment(repo, rules, now, payer, payment)
    if result.outcome == orders.Outcome.DUPLICATE:  # recorded by its update meanwhile
        return None
    await deliveries.enqueue_payment(repo, result, admin_ids)
    finding = Finding.SOLD if result.outcome == orders.Outcome.SOLD else Finding.REFUND_RECORDED
    order = result.order
    await _record(repo, finding, charge.charge_id, order.id if order else None, charge.amount, orders.STARS, now,
                  result.reason)  # fmt: skip
    log.warning("charge %s had no effect: %s", charge.charge_id, finding.value)
    return finding


async def _pending_star_refunds(session: AsyncSession) -> list[Refund]:
    query = select(Refund).where(
        Refund.status == RefundStatus.PENDING,
        Refund.currency == orders.STARS,
        Refund.telegram_payment_charge_id.is_not(None),
        Refund.payer_telegram_id.is_not(None),
    )
    return list(await session.scalars(query.order_by(Refund.id)))


async def _complete_refund(
    sessionmaker: async_sessionmaker[AsyncSession],
    ledger: StarLedger,
    admin_ids: Sequence[int],
    now: datetime,
    refund: Refund,
    done_in_telegram: bool,
) -> Finding | None:
    assert refund.telegram_payment_charge_id is not None and refund.payer_telegram_id is not None
    if done_in_telegram:
        outcome = RefundOutcome.DONE
    else:
        outcome = await ledger.refund(refund.payer_telegram_id, refund.telegram_payment_charge_id)
    if outcome == RefundOutcome.LATER:
        return None
    async with sessionmaker() as session:
        repo = Repo(session)
        if outcome == RefundOutcome.DONE:
            if not await orders.complete_refund(repo, now, refund.id):
                return None  # done by someone else meanwhile
            finding = Finding.REFUNDED
        else:
            finding = Finding.REFUND_REFUSED
            await deliveries.enqueue_refund_task(repo, refund, admin_ids)
        recorded = await _record(repo, finding, refund.telegram_payment_charge_id, refund.order_id, refund.amount,
                                 refund.currency, now, refund.reason)  # fmt: skip
        await session.commit()
    return finding if recorded else None


async def reconcile_provider_charges(
    repo: Repo, admin_ids: Sequence[int], now: datetime, charges: Sequence[orders.Payment]
) -> int:
    """Provider charges reported by a ledger of the provider's (or an inbox of raw updates) that have no effect
    here: each becomes an admin refund task, never a blind sale. In the caller's transaction; the tasks made."""
    made = 0
    for charge in charges:
        if await repo.orders.by_charge_id(charge.telegram_charge_id):
            continue
        refund = await repo.orders.add_refund(
            Refund(
                order_id=None,
                telegram_payment_charge_id=charge.telegram_charge_id,
                provider_payment_charge_id=charge.provider_charge_id,
                payer_telegram_id=charge.payer_telegram_id,
                amount=charge.total_amount,
                currency=charge.currency,
                reason="unknown-order",
                created_at=now,
            )
        )
        if refund is None:
            continue
        await deliveries.enqueue_refund_task(repo, refund, admin_ids)
        await _record(repo, Finding.ADMIN_TASK, charge.telegram_charge_id, None, charge.total_amount, charge.currency,
                      now, None)  # fmt: skip
        made += 1
    return made


# --- audit ----------------------------------------------------------------------------------------------------
async def _record(
    repo: Repo,
    kind: Finding,
    charge_id: str,
    order_id: int | None,
    amount: int,
    currency: str,
    now: datetime,
    detail: str | None,
) -> bool:
    finding = ReconcileFinding(charge_id=charge_id, kind=kind.value, order_id=order_id, amount=amount,
                               currency=currency, detail=detail, at=now)  # fmt: skip
    try:
        async with repo.session.begin_nested():
            repo.session.add(finding)
    except IntegrityError:  # recorded by another instance
        return False
    return True


async def findings(session: AsyncSession) -> dict[Finding, int]:
    """What reconciliation has found and done, ever, by kind: for /admin."""
    query = select(ReconcileFinding.kind, func.count()).group_by(ReconcileFinding.kind)
    counted = {Finding(kind): n for kind, n in await session.execute(query)}
    return {kind: counted.get(kind, 0) for kind in Finding}


# --- one run at a time ----------------------------------------------------------------------------------------
async def _try_lock(session: AsyncSession) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one process, writers serialised
    return bool(await session.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}))


async def _unlock(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        await session.commit()
