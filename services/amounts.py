"""Money as a seller types it: whole units of the listing currency.

Amounts (`parse_amount`) are whole units (roubles): "2500", "2 500", "2,500", "2.500", "2'500" (groups of exactly
three digits after a separator are thousands), "2500,00" and "2500.00" (one or two decimals, which must be zero),
a currency sign or word before or after ("₽", "р", "р.", "руб", "руб.", "рублей", "rub", "RUB", "rur"). "2,5" and
"2500.50" are refused (kopecks), as are zero, negatives and more than `MAX_AMOUNT`.
"""

from __future__ import annotations

import re

from services.errors import DomainError
from services.text import MAX_INPUT

MAX_AMOUNT = 10_000_000

ERROR_CODES: tuple[str, ...] = (
    # parse_amount
    "amount.unparsed",
    "amount.fraction",  # kopecks other than ,00
    "amount.not_positive",  # zero or negative
    "amount.too_large",  # max_amount
)

_CURRENCY = r"(?:₽|р|руб|рублей|рубля|рубль|rub|rubles?|roubles?|rur)\.?"
_AMOUNT = re.compile(
    rf"""
    (?P<sign>[-−–])?\s*
    (?:{_CURRENCY}\s*)?
    (?P<int>\d{{1,3}}(?:(?P<group>[\u0020\u00a0\u202f\u2009'.,])\d{{3}})(?:(?P=group)\d{{3}})*|\d+)
    (?:(?P<point>[.,])(?P<fraction>\d{{1,2}}))?
    \s*(?:{_CURRENCY})?
    """,
    re.VERBOSE,
)


def parse_amount(text: str) -> int:
    """A positive whole amount in major units (roubles); see the module's docstring for the accepted forms."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        raise DomainError("amount.unparsed")
    normalized = " ".join(text.lower().split())
    match = _AMOUNT.fullmatch(normalized)
    if match is None:
        raise DomainError("amount.unparsed")
    group, point = match.group("group"), match.group("point")
    if group is not None and point is not None and group == point:
        raise DomainError("amount.unparsed")  # "2,500,50": the same sign both groups and decimals
    digits = re.sub(r"\D", "", match.group("int"))
    if match.group("fraction") is not None and int(match.group("fraction")) != 0:
        raise DomainError("amount.fraction")
    if len(digits.lstrip("0")) > len(str(MAX_AMOUNT)):
        raise DomainError("amount.too_large", max_amount=MAX_AMOUNT)
    value = int(digits)
    if match.group("sign") is not None or value <= 0:
        raise DomainError("amount.not_positive")
    if value > MAX_AMOUNT:
        raise DomainError("amount.too_large", max_amount=MAX_AMOUNT)
    return value
