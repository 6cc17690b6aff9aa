"""The price cap: a resale costs at most the face value plus `max_markup_percent` (ListingRules.max_markup_percent,
from MAX_MARKUP_PERCENT). The one place the cap's rule lives: the sell wizard's prompt, its check of a typed price
and Publish all call it."""

from __future__ import annotations

from services.errors import DomainError

ERROR_CODES: tuple[str, ...] = (
    # check_price
    "price.not_positive",
    "price.over_cap",  # max_price, max_markup_percent
)


def max_price(face_value: int, max_markup_percent: int) -> int:
    """The highest asking price allowed: floor(face_value * (1 + max_markup_percent / 100)), in integers."""
    if face_value < 0 or max_markup_percent < 0:
        raise ValueError("face value and markup must not be negative")
    return face_value * (100 + max_markup_percent) // 100


def check_price(face_value: int, price: int, max_markup_percent: int) -> None:
    """Refuse a price that is not positive or above `max_price`."""
    if price <= 0:
        raise DomainError("price.not_positive")
    cap = max_price(face_value, max_markup_percent)
    if price > cap:
        raise DomainError("price.over_cap", max_price=cap, max_markup_percent=max_markup_percent)
