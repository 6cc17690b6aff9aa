"""How dates and seats read: the event's local time in either language and across DST, and the seat's label."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.shared.formatting import describe_local, seat_label
from services.seats import Seat
from tests.parsing import MSK, NYC, local


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


def test_seat_labels() -> None:
    assert seat_label(Seat("A", "5", "12"), "ru") == "Сектор A, ряд 5, место 12"
    assert seat_label(Seat("A", "5", "12"), "en") == "Section A, row 5, seat 12"
    assert seat_label(Seat("Партер", "5", "12"), "ru") == "Партер, ряд 5, место 12"
    assert seat_label(Seat(None, "5", "12"), "ru") == "Ряд 5, место 12"
    assert seat_label(Seat(None, "5", "12"), "en") == "Row 5, seat 12"
    assert seat_label(Seat(None, None, "12"), "en") == "Seat 12"
    assert seat_label(Seat("Ложа 3", None, None), "en") == "Ложа 3"
    assert seat_label(Seat(None, None, None, standing=True), "ru") == "Танцпол / без места"
    assert seat_label(Seat(None, None, None, standing=True), "en") == "Standing / no assigned seat"
    assert seat_label(Seat("Фан-зона A", None, None, standing=True), "en") == "Фан-зона A"
