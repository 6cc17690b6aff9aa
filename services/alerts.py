"""Saved searches ("Tell me when"): at most MAX_ALERTS per user; when a ticket is published or back on sale the
users whose alerts match it are found by one statement, never its seller, never twice for one ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import Alert, EventType, Ticket, User
from db.repo import Repo
from services.errors import DomainError
from services.feed import clean_search, fold
from services.groups import MAX_SIZE, unit_of

MAX_ALERTS = 10

ERROR_CODES = ("alert-limit", "alert-empty", "alert-seats", "alert-price", "alert-not-yours")


@dataclass(frozen=True)
class AlertSpec:
    """What to watch for: any of these left None matches everything."""

    event_type: EventType | None = None
    city_id: int | None = None
    text: str | None = None
    event_key: str | None = None
    max_price: int | None = None
    seats: int = 1  # how many seats together


async def save(repo: Repo, now: datetime, user: User, spec: AlertSpec) -> Alert:
    text = clean_search(spec.text) if spec.text else None
    if (spec.event_type, spec.city_id, text, spec.event_key, spec.max_price) == (None,) * 5 and spec.seats == 1:
        raise DomainError("alert-empty")
    if not 1 <= spec.seats <= MAX_SIZE:
        raise DomainError("alert-seats", high=MAX_SIZE)
    if spec.max_price is not None and spec.max_price < 1:
        raise DomainError("alert-price")
    if await repo.alerts.count_of(user.id) >= MAX_ALERTS:
        raise DomainError("alert-limit", limit=MAX_ALERTS)
    alert = Alert(
        user_id=user.id,
        event_type=spec.event_type,
        city_id=spec.city_id,
        text=text,
        event_key=spec.event_key,
        max_price=spec.max_price,
        seats=spec.seats,
        created_at=now,
    )
    return await repo.alerts.add(alert, fold(text).split() if text else [])


async def of_user(repo: Repo, user: User) -> list[Alert]:
    """/alerts: the user's alerts, oldest first."""
    return await repo.alerts.of_user(user.id)


async def delete(repo: Repo, user: User, alert_id: int) -> None:
    if not await repo.alerts.delete(alert_id, user.id):
        raise DomainError("alert-not-yours")


async def to_tell(repo: Repo, now: datetime, ticket: Ticket) -> list[User]:
    """A ticket was published or is back on sale (and is public: no waiter holds an offer on it): the users to tell,
    each marked told in the same statement; give them to the rate-limited notifier (outbox)."""
    unit = await unit_of(repo, ticket.id)
    seats = len(unit.tickets) if unit is not None else 1
    return await repo.alerts.users(await repo.alerts.mark_matching(ticket, seats, now))
