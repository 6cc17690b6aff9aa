"""What the parser tests share: a refusal's code, a local wall time as a UTC moment, a fixed now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.clock import FrozenClock
from services.errors import DomainError

MSK, NYC = "Europe/Moscow", "America/New_York"
# Monday 15 June 2026, 12:00 in Moscow, 05:00 in New York.
CLOCK = FrozenClock(datetime(2026, 6, 15, 9, 0, tzinfo=UTC))
NOW = CLOCK.now()


def local(tz: str, *args: int) -> datetime:
    """The UTC moment of a local wall time (the earlier one when it happens twice)."""
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)  # type: ignore[misc]


def refused(code: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value
