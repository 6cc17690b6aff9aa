"""Amounts as typed: every accepted form, every refusal, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.amounts import ERROR_CODES, MAX_AMOUNT, parse_amount
from services.errors import DomainError
from tests.parsing import refused


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
    except DomainError as error:
        assert error.code in ERROR_CODES
    else:
        assert 1 <= value <= MAX_AMOUNT
