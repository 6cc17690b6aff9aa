"""The durable outbox: what must reach a person is a row written in the caller's transaction, with the state change
it tells of, and sent later by the outbox worker, which retries until it is sent or dead.

Rows carry a kind and plain ids (the worker's renderer for the kind loads the rest at send time, the barcode
included, so no secret sits in the outbox) and a dedupe key: an effect replayed (a payment delivered twice, a
reconciliation run twice) enqueues nothing twice. A worker claims due rows under a lease; a row left 'sending' by a
killed process is due again when its lease runs out. Only the claim's holder moves a row on.

Outbox time is the wall clock, not the domain clock: a test's frozen or moved clock must not stall deliveries."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.models import OutboxMessage, OutboxStatus
from db.repositories.outbox import OutboxRepository

ENQUEUED = "outbox_enqueued"  # session.info flag: this transaction enqueued rows; wake the workers on commit
ERROR_CHARS = 255  # what OutboxMessage.last_error holds

_wakers: set[Callable[[], None]] = set()


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a row is tried: exponential backoff from `base` up to `cap` (with jitter, so that
    rows failed together don't come back together), dead after `max_attempts` failed tries; a claim lasts `lease`."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(seconds=90)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try: base x 2^(attempts-1), capped, between 1/2 and 1 of it."""
        full: timedelta = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return full * (0.5 + random.random() / 2)


# --- writing a row, in the caller's transaction -----------------------------------------------------------------
async def enqueue(
    session: AsyncSession,
    kind: str,
    chat_id: int,
    dedupe_key: str,
    params: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Add a row to send to `chat_id` in the session's transaction; False when `dedupe_key` is already queued
    (or was sent). The workers of this process wake when the transaction commits."""
    now = now or wall_clock()
    added = await OutboxRepository(session).add(
        {
            "kind": kind,
            "chat_id": chat_id,
            "params": params or {},
            "dedupe_key": dedupe_key,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "steps_done": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
    )
    if added:
        session.info[ENQUEUED] = True
    return added


def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` whenever a transaction of this process that enqueued rows commits; returns the unsubscriber."""
    _wakers.add(wake)
    return lambda: _wakers.discard(wake)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(ENQUEUED, False):
        for wake in list(_wakers):
            wake()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(ENQUEUED, None)


# --- the worker's side: claim, progress, done, failed --------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """Rows taken by one worker pass, and the token that lets it (and only it) move them on."""

    token: str
    messages: list[OutboxMessage]


async def claim(session: AsyncSession, policy: RetryPolicy, now: datetime, limit: int) -> Claim:
    """Take up to `limit` due rows for `policy.lease`, committed, so other workers skip them."""
    token = secrets.token_hex(16)
    rows = await OutboxRepository(session).claim(now, limit, token, now + policy.lease)
    await session.commit()
    return Claim(token, rows)


async def progress(
    session: AsyncSession, policy: RetryPolicy, message: OutboxMessage, token: str, steps_done: int, now: datetime
) -> bool:
    """Record that the first `steps_done` calls were accepted and renew the lease; False if the claim was lost."""
    moved = await OutboxRepository(session).move(
        message.id, token, steps_done=steps_done, next_attempt_at=now + policy.lease
    )
    await session.commit()
    return moved


async def sent(session: AsyncSession, message: OutboxMessage, token: str, steps_done: int, now: datetime) -> bool:
    moved = await OutboxRepository(session).move(
        message.id, token, status=OutboxStatus.SENT, steps_done=steps_done, sent_at=now, last_error=None
    )
    await session.commit()
    return moved


async def later(
    session: AsyncSession, message: OutboxMessage, token: str, at: datetime, error: str, *, failed: bool
) -> bool:
    """Back to pending until `at`. `failed`: the try counts against the row's attempts (a 5xx, a network error, a
    renderer's error), unlike a 429 (Telegram said when) or a row put back unsent behind its chat's failure."""
    values: dict[str, Any] = {"status": OutboxStatus.PENDING, "next_attempt_at": at, "claim_token": None}
    if failed:
        values |= {"attempts": message.attempts + 1, "last_error": error[:ERROR_CHARS]}
    moved = await OutboxRepository(session).move(message.id, token, **values)
    await session.commit()
    return moved


async def failed(
    session: AsyncSession, policy: RetryPolicy, message: OutboxMessage, token: str, error: str, now: datetime
) -> OutboxStatus:
    """A failed try: pending again after the backoff, or dead when it was the last attempt. Returns which."""
    attempts = message.attempts + 1
    if attempts >= policy.max_attempts:
        await bury(session, message, token, error, attempts=attempts)
        return OutboxStatus.DEAD
    await later(session, message, token, now + policy.backoff(attempts), error, failed=True)
    return OutboxStatus.PENDING


async def bury(
    session: AsyncSession, message: OutboxMessage, token: str, error: str, *, attempts: int | None = None
) -> bool:
    """Dead: Telegram refused it for good (or its attempts ran out). Admins see it and may retry it."""
    values: dict[str, Any] = {"status": OutboxStatus.DEAD, "last_error": error[:ERROR_CHARS], "claim_token": None}
    if attempts is not None:
        values["attempts"] = attempts
    moved = await OutboxRepository(session).move(message.id, token, **values)
    await session.commit()
    return moved


async def next_due(session: AsyncSession) -> datetime | None:
    return await OutboxRepository(session).next_due()


# --- for admins -----------------------------------------------------------------------------------------------
async def dead_messages(session: AsyncSession, limit: int = 20) -> list[OutboxMessage]:
    """The newest dead rows, with their last error, for /admin."""
    return await OutboxRepository(session).dead(limit)


async def retry(session: AsyncSession, message_id: int, now: datetime | None = None) -> bool:
    """An admin's retry of a dead row, in the caller's transaction: pending now, with all its attempts again (the
    steps already accepted stay done). False when the row isn't dead."""
    revived = await OutboxRepository(session).revive(message_id, now or wall_clock())
    if revived:
        session.info[ENQUEUED] = True
    return revived


async def counts(session: AsyncSession) -> dict[OutboxStatus, int]:
    """Rows by status, for /admin."""
    return await OutboxRepository(session).counts()
