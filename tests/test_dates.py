"""The event's date and time as typed, placed in the city's zone: every accepted form, every refusal, properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from services.clock import FrozenClock
from services.dates import ERROR_CODES, parse_event_datetime
from services.errors import DomainError
from tests.parsing import MSK, NOW, NYC, local, refused


@pytest.mark.parametrize(
    "text",
    [
        "25.12 19:00",
        "25.12.2026 19:00",
        "25.12.26 19:00",
        "25/12/2026 19:00",
        "25-12-2026 19:00",
        "2026-12-25 19:00",
        "2026-12-25T19:00",
        "25 декабря 19:00",
        "25 Декабря 19:00",
        "25 дек 19:00",
        "25 дек. 19:00",
        "25-го декабря 19:00",
        "25 декабря 2026 в 19:00",
        "25 декабря 2026 года в 19:00",
        "25 декабря 2026 г. 19:00",
        "25 декабря в 19",
        "в 19:00 25 декабря",
        "Dec 25 7pm",
        "Dec 25 7 pm",
        "Dec 25, 7 p.m.",
        "December 25, 7:00 pm",
        "25 Dec 2026 19:00",
        "Dec 25th 2026 at 7pm",
        "Friday, December 25, 7pm",
        "пт, 25.12, 19:00",
        "пятница 25 декабря 19:00",
        "19:00 25.12",
        "19:00, 25.12.2026",
        "19h00 25.12",
        "25.12 19.00",
        "  25.12   19:00  ",
        "25.12\u00a019:00",
    ],
)
def test_datetime_formats_in_moscow(text: str) -> None:
    assert parse_event_datetime(text, MSK, NOW) == local(MSK, 2026, 12, 25, 19, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25 Dec 2026 19:30", (2026, 12, 25, 19, 30)),
        ("December 25, 7:30 pm", (2026, 12, 25, 19, 30)),
        ("25 сент 19:00", (2026, 9, 25, 19, 0)),
        ("25 sept 19:00", (2026, 9, 25, 19, 0)),
        ("1 мая 12:00", (2027, 5, 1, 12, 0)),
        ("1 май 12:00", (2027, 5, 1, 12, 0)),
        ("3 марта 00:00", (2027, 3, 3, 0, 0)),
        ("3 мар 23:59", (2027, 3, 3, 23, 59)),
        ("12am 25.12", (2026, 12, 25, 0, 0)),
        ("12pm 25.12", (2026, 12, 25, 12, 0)),
        ("12:30 am 25.12", (2026, 12, 25, 0, 30)),
        ("7 Jul 2026 8:05", (2026, 7, 7, 8, 5)),
        ("сегодня 19:00", (2026, 6, 15, 19, 0)),
        ("сегодня в 19.30", (2026, 6, 15, 19, 30)),
        ("today 7pm", (2026, 6, 15, 19, 0)),
        ("tonight 11:30 pm", (2026, 6, 15, 23, 30)),
        ("завтра 20:00", (2026, 6, 16, 20, 0)),
        ("tomorrow 19:00", (2026, 6, 16, 19, 0)),
        ("послезавтра в 21", (2026, 6, 17, 21, 0)),
        ("вт завтра 20:00", (2026, 6, 16, 20, 0)),
    ],
)
def test_more_datetime_forms(text: str, expected: tuple[int, ...]) -> None:
    assert parse_event_datetime(text, MSK, NOW) == local(MSK, *expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15.06 13:00", (2026, 6, 15, 13, 0)),  # today, an hour from now: this year
        ("16.06 10:00", (2026, 6, 16, 10, 0)),
        ("31.12 23:59", (2026, 12, 31, 23, 59)),
        ("01.01 10:00", (2027, 1, 1, 10, 0)),  # already past this year: next year
        ("14.06 19:00", (2027, 6, 14, 19, 0)),
        ("29.02.2028 19:00", None),  # a year away and more: too far (checked below)
    ],
)
def test_a_date_without_a_year_is_the_next_one(text: str, expected: tuple[int, ...] | None) -> None:
    if expected is None:
        refused("date.too_far", parse_event_datetime, text, MSK, NOW)
    else:
        assert parse_event_datetime(text, MSK, NOW) == local(MSK, *expected)


def test_today_is_the_city_s_today() -> None:
    # 02:00 UTC on 15 June is still 14 June, 22:00 in New York.
    now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    assert parse_event_datetime("сегодня 23:00", NYC, now) == local(NYC, 2026, 6, 14, 23, 0)
    assert parse_event_datetime("tomorrow 1am", NYC, now) == local(NYC, 2026, 6, 15, 1, 0)
    assert parse_event_datetime("сегодня 23:00", MSK, now) == local(MSK, 2026, 6, 15, 23, 0)
    refused("date.past", parse_event_datetime, "сегодня 21:00", NYC, now)


def test_new_york_across_dst() -> None:
    winter_now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    # EST (UTC-5) before 8 March 2026, EDT (UTC-4) after, EST again from 1 November.
    assert parse_event_datetime("07.03 19:00", NYC, winter_now) == datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    assert parse_event_datetime("09.03 19:00", NYC, winter_now) == datetime(2026, 3, 9, 23, 0, tzinfo=UTC)
    assert parse_event_datetime("08.03 03:30", NYC, winter_now) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert parse_event_datetime("08.03 01:59", NYC, winter_now) == datetime(2026, 3, 8, 6, 59, tzinfo=UTC)
    error = refused("date.nonexistent", parse_event_datetime, "08.03 02:30", NYC, winter_now)
    assert error.params == {"local": datetime(2026, 3, 8, 2, 30)}
    refused("date.nonexistent", parse_event_datetime, "March 8 2:00 am", NYC, winter_now)
    # 01:30 on 1 November happens twice: the earlier, still EDT.
    assert parse_event_datetime("01.11 01:30", NYC, winter_now) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert parse_event_datetime("01.11 02:30", NYC, winter_now) == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert parse_event_datetime("25.12 19:00", NYC, winter_now) == datetime(2026, 12, 26, 0, 0, tzinfo=UTC)
    # Moscow has no DST: the same wall time is the same UTC hour all year.
    assert parse_event_datetime("08.03 02:30", MSK, winter_now) == datetime(2026, 3, 7, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", "date.unparsed", {}),
        ("   ", "date.unparsed", {}),
        ("hello", "date.unparsed", {}),
        ("25.12 19:00 please", "date.unparsed", {}),
        ("25", "date.unparsed", {}),
        ("декабрь", "date.unparsed", {}),
        ("25.12 26.12 19:00", "date.unparsed", {}),
        ("25.12 19:00 20:00", "date.unparsed", {}),
        ("завтра 25.12 19:00", "date.unparsed", {}),
        ("10.11 11.12", "date.unparsed", {}),  # which one is the time?
        ("25.12.2026.19:00", "date.unparsed", {}),
        ("123456 19:00", "date.unparsed", {}),
        ("19:00:00 25.12", "date.unparsed", {}),
        ("пт сб 25.12 19:00", "date.unparsed", {}),
        ("25.12", "date.no_time", {}),
        ("25 декабря 2026", "date.no_time", {}),
        ("завтра", "date.no_time", {}),
        ("19:00", "date.no_date", {}),
        ("7pm", "date.no_date", {}),
        ("19.00", "date.no_date", {}),
        ("31.02 19:00", "date.invalid_date", {"day": 31, "month": 2, "year": None}),
        ("32.01 19:00", "date.invalid_date", {"day": 32, "month": 1, "year": None}),
        ("00.12 19:00", "date.invalid_date", {"day": 0, "month": 12, "year": None}),
        ("25.13 19:00", "date.invalid_date", {"day": 25, "month": 13, "year": None}),
        ("31 апреля 19:00", "date.invalid_date", {"day": 31, "month": 4, "year": None}),
        ("29.02.2027 19:00", "date.invalid_date", {"day": 29, "month": 2, "year": 2027}),
        ("29.02 19:00", "date.invalid_date", {"day": 29, "month": 2, "year": 2027}),  # no 29 Feb in 2026-27
        ("2026-02-30 19:00", "date.invalid_date", {"day": 30, "month": 2, "year": 2026}),
        ("25.12 24:00", "date.invalid_time", {"hour": 24, "minute": 0}),
        ("25.12 19:60", "date.invalid_time", {"hour": 19, "minute": 60}),
        ("25.12 13pm", "date.invalid_time", {"hour": 13, "minute": 0}),
        ("25.12 0am", "date.invalid_time", {"hour": 0, "minute": 0}),
        ("25 декабря в 25", "date.invalid_time", {"hour": 25, "minute": 0}),
        ("чт 25.12 19:00", "date.weekday_mismatch", {"weekday": 4}),
        ("Monday, Dec 25, 7pm", "date.weekday_mismatch", {"weekday": 4}),
        ("15.06 11:00", "date.past", {}),  # earlier today: refused, not moved to next year
        ("15.06 12:00", "date.past", {}),  # this very minute
        ("2026-06-01 19:00", "date.past", {}),
        ("25.12.2025 19:00", "date.past", {}),
        ("01.01.0001 19:00", "date.past", {}),
        ("сегодня 10:00", "date.past", {}),
        ("16.06.2027 19:00", "date.too_far", {"max_days": 365}),
        ("25.12.2030 19:00", "date.too_far", {"max_days": 365}),
        ("25.12.9999 19:00", "date.too_far", {"max_days": 365}),
    ],
)
def test_datetime_refused(text: str, code: str, params: dict[str, object]) -> None:
    assert refused(code, parse_event_datetime, text, MSK, NOW).params == params


def test_max_ahead_is_a_parameter() -> None:
    refused("date.too_far", parse_event_datetime, "25.12 19:00", MSK, NOW, max_ahead=timedelta(days=30))
    assert parse_event_datetime("25.06 19:00", MSK, NOW, max_ahead=timedelta(days=30)) == local(MSK, 2026, 6, 25, 19, 0)
    error = refused("date.too_far", parse_event_datetime, "25.07 19:00", MSK, NOW, max_ahead=timedelta(days=30))
    assert error.params == {"max_days": 30}


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_event_datetime("25.12 19:00", MSK, datetime(2026, 6, 15, 9, 0))


def test_the_clock_moves_the_boundaries() -> None:
    clock = FrozenClock(datetime(2026, 12, 25, 15, 59, tzinfo=UTC))  # 18:59 in Moscow
    assert parse_event_datetime("25.12 19:00", MSK, clock.now()) == local(MSK, 2026, 12, 25, 19, 0)
    clock.move(timedelta(minutes=1))
    refused("date.past", parse_event_datetime, "25.12 19:00", MSK, clock.now())


_ZONES = [MSK, NYC, "Europe/London", "Asia/Vladivostok", "Australia/Lord_Howe"]


@given(
    st.datetimes(min_value=datetime(2026, 6, 15), max_value=datetime(2027, 6, 16)),
    st.sampled_from(_ZONES),
)
@example(datetime(2026, 11, 1, 1, 30), NYC)  # a repeated hour: the earlier
@example(datetime(2027, 3, 14, 2, 30), NYC)  # a skipped hour
def test_round_trip_of_a_formatted_local_datetime(wall: datetime, tz: str) -> None:
    wall = wall.replace(second=0, microsecond=0)
    zone = ZoneInfo(tz)
    expected = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the earlier of a repeated time
    text = wall.strftime("%d.%m.%Y %H:%M")
    exists = expected.astimezone(zone).replace(tzinfo=None) == wall
    if not exists:
        refused("date.nonexistent", parse_event_datetime, text, tz, NOW)
        return
    assume(NOW < expected <= NOW + timedelta(days=365))
    assert parse_event_datetime(text, tz, NOW) == expected


_DATE_WORDS = ["25", ".", "12", "19:00", "декабря", "Dec", "pm", "в", "at", "завтра", "today", "пт", ",", "-", "/", " "]


@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(_DATE_WORDS), max_size=8).map("".join)))
@example("2026-12-25T19:00 Z")
@example("٢٥.١٢ ١٩:٠٠")  # Arabic-Indic digits
def test_datetime_parser_raises_only_input_errors(text: str) -> None:
    try:
        moment = parse_event_datetime(text, NYC, NOW)
    except DomainError as error:
        assert error.code in ERROR_CODES
    else:
        assert moment.tzinfo is UTC and NOW < moment <= NOW + timedelta(days=365)
