"""Page edges in callback data: a moment survives the round trip; whatever a forged button carries is refused."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from handlers.shared.paging import from_micros, to_micros


@given(st.datetimes(min_value=datetime(1970, 1, 2), timezones=st.just(UTC)))
def test_a_moment_round_trips(moment: datetime) -> None:
    assert from_micros(to_micros(moment)) == moment


@given(st.integers())
def test_any_number_is_a_moment_or_refused(micros: int) -> None:
    moment = from_micros(micros)
    assert moment is None or (micros > 0 and to_micros(moment) == micros)
    if micros <= 0 or micros > 10**19:
        assert moment is None
