"""The event name and venue as typed: accepted forms, refusals, properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.errors import DomainError
from services.text import ERROR_CODES, parse_event_name, parse_venue
from tests.parsing import refused


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
    except DomainError as error:
        assert error.code in ERROR_CODES
        return
    assert value == value.strip() == " ".join(value.split())
    assert 2 <= len(value) <= 120
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value)
    assert not any(unicodedata.category(ch) == "Cf" and ch != "\u200d" for ch in value)
    assert any(ch.isalnum() for ch in value)
