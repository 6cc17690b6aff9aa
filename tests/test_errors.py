"""The one domain error: its code and parameters, as the errors router and the tests read them."""

from __future__ import annotations

import pytest

from services import amounts, dates, pricing, seats, text
from services.errors import DomainError
from services.pricing import check_price


def test_a_refusal_carries_its_code_and_parameters() -> None:
    with pytest.raises(DomainError, match=r"^price\.over_cap$") as caught:
        check_price(1000, 1201, 20)
    assert caught.value.code == "price.over_cap"
    assert caught.value.params == {"max_price": 1200, "max_markup_percent": 20}
    assert repr(caught.value) == "DomainError('price.over_cap', **{'max_price': 1200, 'max_markup_percent': 20})"


@pytest.mark.parametrize(
    ("module", "areas"),
    [(text, {"name", "venue"}), (dates, {"date"}), (amounts, {"amount"}), (pricing, {"price"}), (seats, {"seat"})],
)
def test_typed_input_codes_are_unique_and_namespaced(module: object, areas: set[str]) -> None:
    codes = module.ERROR_CODES  # type: ignore[attr-defined]
    assert len(codes) == len(set(codes))
    for code in codes:
        area, _, reason = code.partition(".")
        assert area in areas and reason
