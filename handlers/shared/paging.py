"""Keyset page edges in callback data: a moment as whole microseconds since the epoch, and back, refusing numbers a
forged button could carry; a page's key as the two numbers a button holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.repositories.feed import Key
from services.feed import Direction, PageRef

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime | None:
    """The moment a button carried; None for 0 (no edge) and for numbers out of any datetime's range."""
    if micros <= 0:
        return None
    try:
        return EPOCH + micros * MICROSECOND
    except OverflowError:
        return None


def encode(key: Key | None) -> tuple[int, int]:
    """A feed or My tickets page edge as the two numbers a button carries; (0, 0) for none."""
    if key is None:
        return 0, 0
    return to_micros(key.created_at), key.ticket_id


def decode(at: int, ticket_id: int) -> Key | None:
    """The key a button carried; None for the first page, and for forged numbers (out of range)."""
    created_at = from_micros(at)
    if created_at is None or not 0 < ticket_id < 2**63:
        return None
    return Key(created_at, ticket_id)


def page_ref(at: int, ticket_id: int, direction: str = Direction.AT) -> PageRef:
    """The page a button named; the first page for forged numbers or a direction no button carries."""
    key = decode(at, ticket_id)
    if key is None or direction not in Direction._value2member_map_:
        return PageRef()
    return PageRef(key, Direction(direction))
