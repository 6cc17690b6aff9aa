"""Parsers of the sell wizard's typed input: every accepted format, every refusal, and properties."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from services.clock import FrozenClock
from services.listing_input import (
    ERROR_CODES,
    MAX_AMOUNT,
    InputError,
    Seat,
    check_price,
    describe_local,
    max_price,
    parse_amount,
    parse_event_datetime,
    parse_event_name,
    parse_seat,
    parse_venue,
)

MSK, NYC = "Europe/Moscow", "America/New_York"
# Monday 15 June 2026, 12:00 in Moscow, 05:00 in New York.
CLOCK = FrozenClock(datetime(2026, 6, 15, 9, 0, tzinfo=UTC))
NOW = CLOCK.now()


def local(tz: str, *args: int) -> datetime:
    """The UTC moment of a local wall time (the earlier one when it happens twice)."""
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)  # type: ignore[misc]


def refused(code: str, call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


# ---------------------------------------------------------------------------------------------------------------
# Error codes


def test_error_codes_are_unique_and_namespaced() -> None:
    assert len(ERROR_CODES) == len(set(ERROR_CODES))
    for code in ERROR_CODES:
        area, _, reason = code.partition(".")
        assert area in {"name", "venue", "date", "amount", "price", "seat"} and reason


def test_input_error_is_a_value_error_with_code_and_params() -> None:
    error = InputError("price.over_cap", max_price=1200, max_markup_percent=20)
    assert isinstance(error, ValueError)
    assert error.code == "price.over_cap"
    assert error.params == {"max_price": 1200, "max_markup_percent": 20}
    assert "max_price=1200" in str(error)
    with pytest.raises(AssertionError):
        InputError("no.such_code")


# ---------------------------------------------------------------------------------------------------------------
# Event name and venue


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Би-2", "Би-2"),
        ("  Metallica  ", "Metallica"),
        ("Лебединое   озеро\n\tБольшой театр", "Лебединое озеро Большой театр"),
        ("\n\nКино\n", "Кино"),
        ("AC/DC — Power Up Tour 2026", "AC/DC — Power Up Tour 2026"),
        ("ДДТ\u00a0live", "ДДТ live"),
        ("👨‍👩‍👧 Family show", "👨‍👩‍👧 Family show"),
        ("x" * 120, "x" * 120),
        ("42", "42"),
    ],
)
def test_event_name_accepted(text: str, expected: str) -> None:
    assert parse_event_name(text) == expected
    assert parse_venue(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", "too_short", {"min_length": 2}),
        ("   \n ", "too_short", {"min_length": 2}),
        ("A", "too_short", {"min_length": 2}),
        ("x" * 121, "too_long", {"max_length": 120}),
        ("x" * 5000, "too_long", {"max_length": 120}),
        ("Кино\x00", "bad_chars", {}),
        ("Ки\x07но", "bad_chars", {}),
        ("Кино\u202eонищ", "bad_chars", {}),  # right-to-left override
        ("Ки\u200bно", "bad_chars", {}),  # zero-width space
        ("\x1cКино", "bad_chars", {}),  # a separator that str.split() would silently eat
        ("!!!", "no_letters", {}),
        ("— …", "no_letters", {}),
    ],
)
def test_event_name_and_venue_refused(text: str, code: str, params: dict[str, int]) -> None:
    assert refused(f"name.{code}", parse_event_name, text).params == params
    assert refused(f"venue.{code}", parse_venue, text).params == params


@given(st.text(max_size=200))
@example("\u2028a\u2029b\x85")
@example(" \x0b\x0cab")
def test_accepted_names_are_trimmed_and_clean(text: str) -> None:
    try:
        value = parse_event_name(text)
    except InputError as error:
        assert error.code in ERROR_CODES
        return
    assert value == value.strip() == " ".join(value.split())
    assert 2 <= len(value) <= 120
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value)
    assert not any(unicodedata.category(ch) == "Cf" and ch != "\u200d" for ch in value)
    assert any(ch.isalnum() for ch in value)


# ---------------------------------------------------------------------------------------------------------------
# Date and time


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
    except InputError as error:
        assert error.code in ERROR_CODES
    else:
        assert moment.tzinfo is UTC and NOW < moment <= NOW + timedelta(days=365)


# ---------------------------------------------------------------------------------------------------------------
# describe_local


def test_describe_local() -> None:
    moment = local(MSK, 2026, 12, 25, 19, 0)
    assert describe_local(moment, MSK, "en", city_name="Moscow") == "Fri 25 Dec 2026, 19:00 Moscow time"
    assert describe_local(moment, MSK, "ru", city_name="Москва") == "пт, 25 дек. 2026, 19:00 (местное время, Москва)"
    assert describe_local(moment, MSK, "ru-RU", city_name="Казань") == (
        "пт, 25 дек. 2026, 19:00 (местное время, Казань)"
    )
    # Without a city: Babel's name of the zone's exemplar city.
    assert describe_local(moment, MSK, "en") == "Fri 25 Dec 2026, 19:00 Moscow time"
    assert describe_local(moment, MSK, "ru") == "пт, 25 дек. 2026, 19:00 (местное время, Москва)"
    summer = local(NYC, 2026, 7, 4, 21, 30)
    assert describe_local(summer, NYC, "en") == "Sat 4 Jul 2026, 21:30 New York time"
    assert describe_local(summer, NYC, "ru") == "сб, 4 июл. 2026, 21:30 (местное время, Нью-Йорк)"
    assert describe_local(summer, "Europe/Kyiv", "ru").endswith("(местное время, Киев)")
    with pytest.raises(ValueError):
        describe_local(datetime(2026, 12, 25, 19, 0), MSK, "en")


def test_describe_local_shows_the_local_wall_time_across_dst() -> None:
    assert describe_local(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), NYC, "en").startswith("Sun 1 Nov 2026, 01:30")
    assert describe_local(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), NYC, "en").startswith("Sun 1 Nov 2026, 01:30")
    assert describe_local(datetime(2026, 3, 8, 7, 0, tzinfo=UTC), NYC, "en").startswith("Sun 8 Mar 2026, 03:00")


# ---------------------------------------------------------------------------------------------------------------
# Amounts and prices


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2500", 2500),
        ("2 500", 2500),
        ("2\u00a0500", 2500),
        ("2\u202f500", 2500),
        ("2,500", 2500),
        ("2.500", 2500),
        ("2'500", 2500),
        ("1 000 000", 1_000_000),
        ("1,000,000", 1_000_000),
        ("2500,00", 2500),
        ("2500.00", 2500),
        ("2500,0", 2500),
        ("2 500,00", 2500),
        ("2.500,00", 2500),
        ("2,500.00", 2500),
        ("2500₽", 2500),
        ("2 500 ₽", 2500),
        ("₽2500", 2500),
        ("2500р", 2500),
        ("2500 р.", 2500),
        ("2500 руб", 2500),
        ("2500 руб.", 2500),
        ("2500 рублей", 2500),
        ("2500 RUB", 2500),
        ("rub 2500", 2500),
        ("RUR2500", 2500),
        ("  2500  ", 2500),
        ("1", 1),
        ("10000000", 10_000_000),
        ("007", 7),
    ],
)
def test_amount_accepted(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", "amount.unparsed", {}),
        ("abc", "amount.unparsed", {}),
        ("2500 usd", "amount.unparsed", {}),
        ("25 00", "amount.unparsed", {}),  # not a group of three
        ("2,500,50", "amount.unparsed", {}),
        ("2.5k", "amount.unparsed", {}),
        ("1e5", "amount.unparsed", {}),
        ("+2500", "amount.unparsed", {}),
        ("2,5", "amount.fraction", {}),
        ("2500.50", "amount.fraction", {}),
        ("2500,01", "amount.fraction", {}),
        ("2 500,99 ₽", "amount.fraction", {}),
        ("0", "amount.not_positive", {}),
        ("0,00", "amount.not_positive", {}),
        ("-500", "amount.not_positive", {}),
        ("−500 ₽", "amount.not_positive", {}),
        ("10000001", "amount.too_large", {"max_amount": MAX_AMOUNT}),
        ("10 000 001", "amount.too_large", {"max_amount": MAX_AMOUNT}),
        ("9" * 5000, "amount.unparsed", {}),  # longer than any input we read
        ("9" * 400, "amount.too_large", {"max_amount": MAX_AMOUNT}),
    ],
)
def test_amount_refused(text: str, code: str, params: dict[str, int]) -> None:
    assert refused(code, parse_amount, text).params == params


@given(
    st.integers(min_value=1, max_value=MAX_AMOUNT),
    st.sampled_from(["{n}", "{n:,}", "{n:_}", "{n} ₽", "{n},00", "{n:,}.00", "₽{n}", "{n} руб.", "{n}р"]),
)
def test_amount_round_trip(amount: int, template: str) -> None:
    text = template.format(n=amount).replace("_", " ")
    assert parse_amount(text) == amount


@given(st.text(max_size=40))
def test_amount_parser_raises_only_input_errors(text: str) -> None:
    try:
        value = parse_amount(text)
    except InputError as error:
        assert error.code in ERROR_CODES
    else:
        assert 1 <= value <= MAX_AMOUNT


def test_max_price_and_check_price() -> None:
    assert max_price(1000, 20) == 1200
    assert max_price(999, 20) == 1198  # floor of 1198.8
    assert max_price(1, 20) == 1
    assert max_price(5, 20) == 6
    assert max_price(1000, 0) == 1000
    check_price(1000, 1200, 20)
    check_price(1000, 1, 20)
    error = refused("price.over_cap", check_price, 1000, 1201, 20)
    assert error.params == {"max_price": 1200, "max_markup_percent": 20}
    refused("price.not_positive", check_price, 1000, 0, 20)
    refused("price.not_positive", check_price, 1000, -5, 20)
    with pytest.raises(ValueError):
        max_price(-1, 20)


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=1000),
)
def test_max_price_is_exact_and_monotonic(face_a: int, face_b: int, pct_a: int, pct_b: int) -> None:
    low_face, high_face = sorted((face_a, face_b))
    low_pct, high_pct = sorted((pct_a, pct_b))
    cap = max_price(low_face, low_pct)
    assert cap == int(Fraction(low_face) * (1 + Fraction(low_pct, 100)))  # floor, no floats
    assert cap >= low_face
    assert max_price(high_face, low_pct) >= cap
    assert max_price(low_face, high_pct) >= cap


# ---------------------------------------------------------------------------------------------------------------
# Seats


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("standing", Seat(None, None, None, standing=True)),
        ("Standing only", Seat(None, None, None, standing=True)),
        ("танцпол", Seat(None, None, None, standing=True)),
        ("Танцпол!", Seat(None, None, None, standing=True)),
        ("фан-зона", Seat(None, None, None, standing=True)),
        ("Фан зона", Seat(None, None, None, standing=True)),
        ("стоячее", Seat(None, None, None, standing=True)),
        ("без места", Seat(None, None, None, standing=True)),
        ("-", Seat(None, None, None, standing=True)),
        ("—", Seat(None, None, None, standing=True)),
        ("Фан-зона A", Seat("Фан-зона A", None, None, standing=True)),
        ("Партер, ряд 5, место 12", Seat("Партер", "5", "12")),
        ("партер ряд 5 место 12", Seat("партер", "5", "12")),
        ("Section A row 5 seat 12", Seat("A", "5", "12")),
        ("Сектор A, ряд 5, место 12", Seat("A", "5", "12")),
        ("Сектор C112 ряд 20 место 5", Seat("C112", "20", "5")),
        ("Сектор 2 Партер левый ряд 3 место 4", Seat("Сектор 2 Партер левый", "3", "4")),
        ("A/5/12", Seat("A", "5", "12")),
        ("Балкон / 3 / 7", Seat("Балкон", "3", "7")),
        ("5/12", Seat(None, "5", "12")),
        ("5 ряд 12 место", Seat(None, "5", "12")),
        ("5-й ряд, 12-е место", Seat(None, "5", "12")),
        ("Партер 5 ряд 12 место", Seat("Партер", "5", "12")),
        ("ряд 5 место 12", Seat(None, "5", "12")),
        ("Ряд 5А, место 12", Seat(None, "5А", "12")),
        ("р. 5 м. 12", Seat(None, "5", "12")),
        ("ряд №5, место №12", Seat(None, "5", "12")),
        ("row AA seat 101", Seat(None, "AA", "101")),
        ("ряд 5", Seat(None, "5", None)),
        ("место 12", Seat(None, None, "12")),
        ("Ложа 3", Seat("Ложа 3", None, None)),
        ("Сектор B", Seat("B", None, None)),
        ("VIP box 4", Seat("VIP box 4", None, None)),
        ("Бельэтаж, ряд 2, место 15", Seat("Бельэтаж", "2", "15")),
    ],
)
def test_seat_accepted(text: str, expected: Seat) -> None:
    assert parse_seat(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", "seat.unparsed", {}),
        ("   ", "seat.unparsed", {}),
        ("asdf", "seat.unparsed", {}),
        ("ряд 5 ряд 6", "seat.unparsed", {}),
        ("место 1 место 2", "seat.unparsed", {}),
        ("ряд место", "seat.unparsed", {}),
        ("1/2/3/4", "seat.unparsed", {}),
        ("/5/", "seat.unparsed", {}),
        ("Партер ряд", "seat.unparsed", {}),
        ("x" * 600, "seat.unparsed", {}),
        ("ряд\x005", "seat.bad_chars", {}),
        ("Сектор " + "Б" * 40 + ", ряд 5, место 1", "seat.too_long", {"field": "section", "max_length": 30}),
        ("A/" + "1" * 31 + "/2", "seat.too_long", {"field": "row", "max_length": 30}),
        ("A/1/" + "2" * 31, "seat.too_long", {"field": "number", "max_length": 30}),
    ],
)
def test_seat_refused(text: str, code: str, params: dict[str, object]) -> None:
    assert refused(code, parse_seat, text).params == params


def test_seat_labels() -> None:
    assert Seat("A", "5", "12").label("ru") == "Сектор A, ряд 5, место 12"
    assert Seat("A", "5", "12").label("en") == "Section A, row 5, seat 12"
    assert Seat("Партер", "5", "12").label("ru") == "Партер, ряд 5, место 12"
    assert Seat(None, "5", "12").label("ru") == "Ряд 5, место 12"
    assert Seat(None, "5", "12").label("en") == "Row 5, seat 12"
    assert Seat(None, None, "12").label("en") == "Seat 12"
    assert Seat("Ложа 3", None, None).label("en") == "Ложа 3"
    assert Seat(None, None, None, standing=True).label("ru") == "Танцпол / без места"
    assert Seat(None, None, None, standing=True).label("en") == "Standing / no assigned seat"
    assert Seat("Фан-зона A", None, None, standing=True).label("en") == "Фан-зона A"


@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(["ряд", "место", "5", "A", "/", ",", " ", "-"]))
                 .map(" ".join)))  # fmt: skip
def test_seat_parser_raises_only_input_errors(text: str) -> None:
    try:
        seat = parse_seat(text)
    except InputError as error:
        assert error.code in ERROR_CODES
    else:
        for part in (seat.section, seat.row, seat.number):
            assert part is None or (0 < len(part) <= 30 and part == part.strip())
        assert seat.standing or seat.section or seat.row or seat.number
        assert seat.label("ru") and seat.label("en")
