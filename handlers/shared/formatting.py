"""How dates and seats read to people: the event's local time and the seat's label, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.core import Locale, get_global
from babel.dates import format_datetime, get_timezone_location

from services.seats import Seat


def _zone_city(tz: str, locale: str) -> str:
    """Babel's (CLDR's) name of the zone's exemplar city, also found under the zone's older names (CLDR keeps
    Europe/Kiev, not Europe/Kyiv), else Babel's fallback built from the zone's id."""
    names = Locale.parse(locale).time_zones
    aliases: Mapping[str, str] = get_global("zone_aliases")
    for key in (tz, *(alias for alias, target in aliases.items() if target == tz)):
        city = (names.get(key) or {}).get("city")
        if city:
            return str(city)
    return str(get_timezone_location(ZoneInfo(tz), locale=locale, return_city=True))


@lru_cache(maxsize=4096)  # a card's date is ~0.15 ms of Babel; the same events fill every viewer's first pages
def describe_local(moment_utc: datetime, tz: str, lang: str, *, city_name: str | None = None) -> str:
    """The moment in the city's local time, localised: "Fri 25 Dec 2026, 19:00 Moscow time" /
    "пт, 25 дек. 2026, 19:00 (местное время, Москва)". The city is `city_name` when given, else Babel's name of the
    zone's exemplar city. (Russian puts the city in the nominative after "местное время" so that any city name
    reads right; "время Москвы" would need a genitive nobody has for every city.)"""
    if moment_utc.tzinfo is None:
        raise ValueError("moment_utc must be an aware datetime")
    zone = ZoneInfo(tz)
    local = moment_utc.astimezone(zone)
    if lang.lower().startswith("ru"):
        city = city_name or _zone_city(tz, "ru")
        stamp = format_datetime(local, "EEE, d MMM y, HH:mm", tzinfo=zone, locale="ru")
        return f"{stamp} (местное время, {city})"
    city = city_name or _zone_city(tz, "en")
    stamp = format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=zone, locale="en")
    return f"{stamp} {city} time"


def seat_label(seat: Seat, lang: str) -> str:
    """ "Сектор A, ряд 5, место 12" / "Section A, row 5, seat 12"; "Танцпол / без места" / "Standing / no
    assigned seat"; a standing zone with a name: that name."""
    ru = lang.lower().startswith("ru")
    if seat.standing:
        if seat.section:
            return seat.section
        return "Танцпол / без места" if ru else "Standing / no assigned seat"
    parts: list[str] = []
    if seat.section:
        if seat.section_is_code:
            parts.append(("сектор " if ru else "section ") + seat.section)
        else:
            parts.append(seat.section)
    if seat.row:
        parts.append(("ряд " if ru else "row ") + seat.row)
    if seat.number:
        parts.append(("место " if ru else "seat ") + seat.number)
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]
