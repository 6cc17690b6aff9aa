"""The price cap: exact integer arithmetic, its refusals, monotonic in the face value and the markup."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.pricing import check_price, max_price
from tests.parsing import refused


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
