"""Seats as typed: every accepted form, every refusal, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.shared.formatting import seat_label
from services.errors import DomainError
from services.seats import ERROR_CODES, Seat, parse_seat
from tests.parsing import refused


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


@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(["ряд", "место", "5", "A", "/", ",", " ", "-"]))
                 .map(" ".join)))  # fmt: skip
def test_seat_parser_raises_only_input_errors(text: str) -> None:
    try:
        seat = parse_seat(text)
    except DomainError as error:
        assert error.code in ERROR_CODES
    else:
        for part in (seat.section, seat.row, seat.number):
            assert part is None or (0 < len(part) <= 30 and part == part.strip())
        assert seat.standing or seat.section or seat.row or seat.number
        assert seat_label(seat, "ru") and seat_label(seat, "en")
