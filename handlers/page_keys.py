"""Keyset page edges in callback data: a moment as whole microseconds since the epoch, and back, refusing numbers a
forged button could carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
