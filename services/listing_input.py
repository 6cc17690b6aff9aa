"""Parsers of what a seller types in the sell wizard: event name, venue, date and time, amounts, seat.

Every refusal is an `InputError(code, **params)`: `code` is a stable key from `ERROR_CODES` that the UI maps to a
friendly localised text, `params` fill it in. Nothing here imports aiogram.

Date and time (`parse_event_datetime`) follow a small, predictable grammar rather than a fuzzy parser. The text is
split into tokens, each of exactly one kind:
  - a numeric date: `25.12`, `25.12.2026`, `25/12/26`, `25-12-2026` (day first, always), `2026-12-25` (ISO);
  - a time: `19:00`, `19h00`, `7pm`, `7 p.m.`, `7:30 pm`; a bare hour only right after "в"/"at" (`в 19`);
  - a month name in Russian or English, any case or form Babel knows (декабря, декабрь, дек., December, Dec) or
    any prefix of three letters or more (сент, sept); a day number next to it (`25 декабря`, `Dec 25`, `25th`,
    `25-го`) and optionally a four-digit year after it;
  - a relative day: сегодня, завтра, послезавтра, today, tonight, tomorrow;
  - a weekday (пт, пятница, Fri, Friday): checked against the date, never used to find it;
  - fillers that are ignored: в, во, at, on, the, of, г, г., год, года; separators: spaces, commas, semicolons.
Anything else makes the whole text unparsed. Exactly one date and one time are needed, in either order.
`19.00` is read as a time only when it cannot be a date (the month would be 00 or over 12) and the rest of the text
has a date, e.g. `25.12 19.00`, `сегодня 19.30`.
A date without a year is the next such date that is not already past: this year, else next year; but a date of
today whose time has passed is refused as past, not moved a year on (that is nearly always a mistake).
The local time is then placed in the city's zone with zoneinfo: a time skipped by a DST change is refused
("date.nonexistent"), a time that happens twice is the earlier one; the result must be in the future and no
further than `max_ahead`.

Amounts (`parse_amount`) are whole units (roubles): "2500", "2 500", "2,500", "2.500", "2'500" (groups of exactly
three digits after a separator are thousands), "2500,00" and "2500.00" (one or two decimals, which must be zero),
a currency sign or word before or after ("₽", "р", "р.", "руб", "руб.", "рублей", "rub", "RUB", "rur"). "2,5" and
"2500.50" are refused (kopecks), as are zero, negatives and more than `MAX_AMOUNT`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import Locale, get_global
from babel.dates import format_datetime, get_day_names, get_month_names, get_timezone_location

__all__ = [
    "ERROR_CODES",
    "MAX_AMOUNT",
    "NAME_MAX_LENGTH",
    "NAME_MIN_LENGTH",
    "SEAT_PART_MAX_LENGTH",
    "InputError",
    "Seat",
    "check_price",
    "describe_local",
    "max_price",
    "parse_amount",
    "parse_event_datetime",
    "parse_event_name",
    "parse_seat",
    "parse_venue",
]

NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 120
SEAT_PART_MAX_LENGTH = 30
MAX_AMOUNT = 10_000_000
_MAX_INPUT = 500  # longer texts are refused before any parsing

ERROR_CODES: tuple[str, ...] = (
    # parse_event_name / parse_venue; params: min_length, max_length
    "name.too_short",  # min_length
    "name.too_long",  # max_length
    "name.bad_chars",  # control or invisible formatting characters
    "name.no_letters",  # nothing but punctuation or symbols
    "venue.too_short",  # min_length
    "venue.too_long",  # max_length
    "venue.bad_chars",
    "venue.no_letters",
    # parse_event_datetime
    "date.unparsed",  # not the grammar above
    "date.no_date",  # a time but no date
    "date.no_time",  # a date but no time
    "date.invalid_date",  # day, month, year (year None when not typed): 31.02, 32.01, 29.02 of a common year
    "date.invalid_time",  # hour, minute: 25:00, 19:60, 13pm
    "date.weekday_mismatch",  # weekday: the date's real weekday, 0 = Monday
    "date.nonexistent",  # local: the naive local datetime, skipped by a DST change
    "date.past",
    "date.too_far",  # max_days
    # parse_amount
    "amount.unparsed",
    "amount.fraction",  # kopecks other than ,00
    "amount.not_positive",  # zero or negative
    "amount.too_large",  # max_amount
    # check_price
    "price.not_positive",
    "price.over_cap",  # max_price, max_markup_percent
    # parse_seat
    "seat.unparsed",
    "seat.too_long",  # field ("section", "row" or "number"), max_length
    "seat.bad_chars",
)


class InputError(ValueError):
    """A refusal of typed input: `code` (one of ERROR_CODES) and `params` for the localised text."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in ERROR_CODES:
            raise AssertionError(f"unknown input error code {code!r}")
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"InputError({self.code!r}, **{self.params!r})"

    def __str__(self) -> str:
        if not self.params:
            return self.code
        return f"{self.code} ({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"


# ---------------------------------------------------------------------------------------------------------------
# Names and venues

_ALLOWED_FORMAT = {"\u200d"}  # zero-width joiner: inside emoji sequences


def _bad_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch not in " \t\n\r"
    return category in ("Cf", "Cs", "Co", "Cn") and ch not in _ALLOWED_FORMAT


_SPACE = r"(?:[ \t\n\r]|(?![\x00-\x1f\x7f-\x9f])\s)"  # whitespace, but not the control characters str.strip eats
_EDGE_SPACE = re.compile(rf"^{_SPACE}+|{_SPACE}+$")


def _strip(text: str) -> str:
    return _EDGE_SPACE.sub("", text)


def _clean_text(text: str, field: str) -> str:
    if not isinstance(text, str):
        raise InputError(f"{field}.too_short", min_length=NAME_MIN_LENGTH)
    stripped = _strip(text)
    if len(stripped) > _MAX_INPUT * 2:
        raise InputError(f"{field}.too_long", max_length=NAME_MAX_LENGTH)
    if any(_bad_char(ch) for ch in stripped):
        raise InputError(f"{field}.bad_chars")
    value = " ".join(stripped.split())
    if len(value) < NAME_MIN_LENGTH:
        raise InputError(f"{field}.too_short", min_length=NAME_MIN_LENGTH)
    if len(value) > NAME_MAX_LENGTH:
        raise InputError(f"{field}.too_long", max_length=NAME_MAX_LENGTH)
    if not any(ch.isalnum() for ch in value):
        raise InputError(f"{field}.no_letters")
    return value


def parse_event_name(text: str) -> str:
    """Trimmed, inner whitespace collapsed to single spaces, 2-120 characters, at least one letter or digit;
    control and invisible formatting characters are refused, not stripped."""
    return _clean_text(text, "name")


def parse_venue(text: str) -> str:
    """As `parse_event_name`, with "venue.*" codes."""
    return _clean_text(text, "venue")


# ---------------------------------------------------------------------------------------------------------------
# Date and time


def _fold_word(word: str) -> str:
    return word.lower().replace("ё", "е").rstrip(".")


def _word_table(names_by_number: list[dict[int, str]], *, prefixes_of: list[dict[int, str]]) -> dict[str, int]:
    """Word -> number from Babel's names, plus every prefix of 3+ letters of `prefixes_of` that is unambiguous."""
    table: dict[str, int] = {}
    for names in names_by_number:
        for number, name in names.items():
            table[_fold_word(name)] = number
    prefix_owner: dict[str, set[int]] = {}
    for names in prefixes_of:
        for number, name in names.items():
            word = _fold_word(name)
            for end in range(3, len(word) + 1):
                prefix_owner.setdefault(word[:end], set()).add(number)
    for prefix, owners in prefix_owner.items():
        if len(owners) == 1:
            table.setdefault(prefix, next(iter(owners)))
    return table


def _month_table() -> dict[str, int]:
    exact = [get_month_names(width, context, locale) for locale in ("ru", "en") for width in ("wide", "abbreviated")
             for context in ("format", "stand-alone")]  # fmt: skip
    wide = [
        get_month_names("wide", context, locale) for locale in ("ru", "en") for context in ("format", "stand-alone")
    ]
    return _word_table(exact, prefixes_of=wide)


def _weekday_table() -> dict[str, int]:
    exact = [get_day_names(width, "format", locale) for locale in ("ru", "en") for width in ("wide", "abbreviated")]
    exact.append(get_day_names("short", "format", "ru"))  # пн вт ... (English "Mo", "Tu" are too short to be safe)
    wide = [get_day_names("wide", "format", locale) for locale in ("ru", "en")]
    return _word_table(exact, prefixes_of=wide)


_MONTHS = _month_table()
_WEEKDAYS = {word: day for word, day in _weekday_table().items() if word not in _MONTHS}
_RELATIVE = {"сегодня": 0, "завтра": 1, "послезавтра": 2, "today": 0, "tonight": 0, "tomorrow": 1}
_AT = {"в", "во", "at"}
_FILLERS = {"on", "the", "of", "г", "год", "года"}

_TOKEN = re.compile(
    r"""
      (?P<sep>(?:[\s,;]|\s[-–—](?=\s))+)
    | (?P<iso>(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2}))(?!\d)t?
    | (?P<time>(?P<t_h>\d{1,2})[:h](?P<t_m>\d{2}))(?:\s?(?P<t_ampm>[ap])\.?m\.?(?![a-zа-я]))?(?!\d)
    | (?P<dmy>(?P<d_d>\d{1,2})(?P<d_sep>[./-])(?P<d_m>\d{1,2})(?:(?P=d_sep)(?P<d_y>\d{4}|\d{2}))?)(?![\d:])
    | (?P<hour>\d{1,2})\s?(?P<h_ampm>[ap])\.?m\.?(?![a-zа-я])
    | (?P<num>\d{1,4})(?:-?(?:st|nd|rd|th|го|е|ое))?(?![\d])
    | (?P<word>[a-zа-я]+)\.?
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # date, time, num, month, weekday, relative, at
    value: Any
    digits: int = 0  # for num: how many digits were typed
    maybe_time: tuple[int, int] | None = None  # for a year-less dotted date: (hour, minute) if it reads as a time


def _tokenize(text: str) -> list[_Token]:
    normalized = text.lower().replace("ё", "е").replace("\u00a0", " ").replace("\u202f", " ").strip()
    tokens: list[_Token] = []
    pos = 0
    while pos < len(normalized):
        match = _TOKEN.match(normalized, pos)
        if match is None:
            raise InputError("date.unparsed")
        pos = match.end()
        group = match.lastgroup
        if group is None or match.group("sep") is not None:
            continue
        if match.group("iso") is not None:
            ymd = (int(match.group("iso_y")), int(match.group("iso_m")), int(match.group("iso_d")))
            tokens.append(_Token("date", (ymd[2], ymd[1], ymd[0])))
        elif match.group("time") is not None:
            tokens.append(
                _Token("time", _clock(int(match.group("t_h")), int(match.group("t_m")), match.group("t_ampm")))
            )
        elif match.group("dmy") is not None:
            day, month, year_text = int(match.group("d_d")), int(match.group("d_m")), match.group("d_y")
            year = None if year_text is None else (int(year_text) + 2000 if len(year_text) == 2 else int(year_text))
            maybe_time = None
            if year is None and match.group("d_sep") == "." and len(match.group("d_m")) == 2:
                maybe_time = (day, month)
            tokens.append(_Token("date", (day, month, year), maybe_time=maybe_time))
        elif match.group("hour") is not None:
            tokens.append(_Token("time", _clock(int(match.group("hour")), 0, match.group("h_ampm"))))
        elif match.group("num") is not None:
            tokens.append(_Token("num", int(match.group("num")), digits=len(match.group("num"))))
        else:
            word = match.group("word")
            if word in _MONTHS:
                tokens.append(_Token("month", _MONTHS[word]))
            elif word in _WEEKDAYS:
                tokens.append(_Token("weekday", _WEEKDAYS[word]))
            elif word in _RELATIVE:
                tokens.append(_Token("relative", _RELATIVE[word]))
            elif word in _AT:
                tokens.append(_Token("at", None))
            elif word not in _FILLERS:
                raise InputError("date.unparsed")
    return tokens


def _clock(hour: int, minute: int, ampm: str | None) -> tuple[int, int]:
    """(hour, minute) in 24 h; raises date.invalid_time."""
    if ampm is not None:
        if not 1 <= hour <= 12 or minute > 59:
            raise InputError("date.invalid_time", hour=hour, minute=minute)
        hour = hour % 12 + (12 if ampm == "p" else 0)
    if hour > 23 or minute > 59:
        raise InputError("date.invalid_time", hour=hour, minute=minute)
    return hour, minute


@dataclass(slots=True)
class _Parts:
    dates: list[_Token]  # kind "date" (day, month, year | None) or "relative" (days)
    times: list[tuple[int, int]]
    weekdays: list[int]


def _assemble(tokens: list[_Token]) -> _Parts:
    """Group day numbers with month names and bare hours with "в"/"at"; anything left over is unparsed."""
    parts = _Parts([], [], [])
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < n else None
        if token.kind == "num" and following is not None and following.kind == "month" and token.digits <= 2:
            day, month, i = token.value, following.value, i + 2  # 25 декабря [2026]
        elif token.kind == "month" and following is not None and following.kind == "num" and following.digits <= 2:
            day, month, i = following.value, token.value, i + 2  # Dec 25 [2026]
        elif token.kind == "at":
            if following is not None and following.kind == "num" and following.digits <= 2:
                parts.times.append(_clock(following.value, 0, None))  # в 19
                i += 2
            else:
                i += 1
            continue
        else:
            if token.kind in ("date", "relative"):
                parts.dates.append(token)
            elif token.kind == "time":
                parts.times.append(token.value)
            elif token.kind == "weekday":
                parts.weekdays.append(token.value)
            else:  # a lone number or month
                raise InputError("date.unparsed")
            i += 1
            continue
        year = None
        if i < n and tokens[i].kind == "num" and tokens[i].digits == 4:
            year = tokens[i].value
            i += 1
        parts.dates.append(_Token("date", (day, month, year)))
    return parts


def _valid_day(day: int, month: int, year: int | None) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    try:
        date(2000 if year is None else year, month, day)  # 2000: a leap year, so 29.02 passes without a year
    except ValueError:
        return False
    return True


def _resolve_time_like_dates(parts: _Parts) -> None:
    """`25.12 19.00`: with no time, a year-less dotted "date" that cannot be a date but can be a time is one (and
    `19.00` alone is then a time without a date)."""
    if parts.times:
        return
    readings = []
    for token in parts.dates:
        if token.maybe_time is None or _valid_day(*token.value):
            continue
        hour, minute = token.maybe_time
        if hour <= 23 and minute <= 59:
            readings.append(token)
    if len(readings) == 1 and len(parts.dates) <= 2:
        parts.dates.remove(readings[0])
        assert readings[0].maybe_time is not None
        parts.times.append(readings[0].maybe_time)


def _local_date(token: _Token, today: date) -> date:
    if token.kind == "relative":
        return today + timedelta(days=token.value)
    day, month, year = token.value
    if not _valid_day(day, month, year):
        raise InputError("date.invalid_date", day=day, month=month, year=year)
    if year is not None:
        if year < 1970:
            raise InputError("date.past")
        if year > today.year + 100:
            raise InputError("date.too_far", max_days=None)
        return date(year, month, day)
    for candidate_year in (today.year, today.year + 1):
        if _valid_day(day, month, candidate_year):
            candidate = date(candidate_year, month, day)
            if candidate >= today:
                return candidate
    raise InputError("date.invalid_date", day=day, month=month, year=today.year + 1)


def parse_event_datetime(text: str, tz: str, now: datetime, *, max_ahead: timedelta = timedelta(days=365)) -> datetime:
    """The moment (aware, UTC) that `text`, a local date and time in zone `tz`, names. See the module's docstring
    for the accepted forms; every refusal is an InputError."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    zone = ZoneInfo(tz)
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        raise InputError("date.unparsed")
    parts = _assemble(_tokenize(text))
    _resolve_time_like_dates(parts)
    if len(parts.dates) > 1 or len(parts.times) > 1 or len(parts.weekdays) > 1:
        raise InputError("date.unparsed")
    if not parts.dates:
        raise InputError("date.no_date" if parts.times else "date.unparsed")
    if not parts.times:
        raise InputError("date.no_time")
    max_days = max_ahead.days
    today = now.astimezone(zone).date()
    try:
        local_date = _local_date(parts.dates[0], today)
    except InputError as error:
        if error.code == "date.too_far":
            raise InputError("date.too_far", max_days=max_days) from None
        raise
    if parts.weekdays and parts.weekdays[0] != local_date.weekday():
        raise InputError("date.weekday_mismatch", weekday=local_date.weekday())
    hour, minute = parts.times[0]
    naive = datetime.combine(local_date, time(hour, minute))
    local = naive.replace(tzinfo=zone)  # fold=0: of a repeated hour, the earlier
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != naive:
        raise InputError("date.nonexistent", local=naive)
    if moment <= now:
        raise InputError("date.past")
    if moment - now > max_ahead:
        raise InputError("date.too_far", max_days=max_days)
    return moment


def _zone_city(tz: str, locale: str) -> str:
    """Babel's (CLDR's) name of the zone's exemplar city, also found under the zone's older names (CLDR keeps
    Europe/Kiev, not Europe/Kyiv), else Babel's fallback built from the zone's id."""
    names = Locale.parse(locale).time_zones
    aliases: dict[str, str] = get_global("zone_aliases")
    for key in (tz, *(alias for alias, target in aliases.items() if target == tz)):
        city = (names.get(key) or {}).get("city")
        if city:
            return str(city)
    return str(get_timezone_location(ZoneInfo(tz), locale=locale, return_city=True))


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


# ---------------------------------------------------------------------------------------------------------------
# Amounts and prices

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
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        raise InputError("amount.unparsed")
    normalized = " ".join(text.lower().split())
    match = _AMOUNT.fullmatch(normalized)
    if match is None:
        raise InputError("amount.unparsed")
    group, point = match.group("group"), match.group("point")
    if group is not None and point is not None and group == point:
        raise InputError("amount.unparsed")  # "2,500,50": the same sign both groups and decimals
    digits = re.sub(r"\D", "", match.group("int"))
    if match.group("fraction") is not None and int(match.group("fraction")) != 0:
        raise InputError("amount.fraction")
    if len(digits.lstrip("0")) > len(str(MAX_AMOUNT)):
        raise InputError("amount.too_large", max_amount=MAX_AMOUNT)
    value = int(digits)
    if match.group("sign") is not None or value <= 0:
        raise InputError("amount.not_positive")
    if value > MAX_AMOUNT:
        raise InputError("amount.too_large", max_amount=MAX_AMOUNT)
    return value


def max_price(face_value: int, max_markup_percent: int) -> int:
    """The highest asking price allowed: floor(face_value * (1 + max_markup_percent / 100)), in integers."""
    if face_value < 0 or max_markup_percent < 0:
        raise ValueError("face value and markup must not be negative")
    return face_value * (100 + max_markup_percent) // 100


def check_price(face_value: int, price: int, max_markup_percent: int) -> None:
    """Refuse a price that is not positive or above `max_price`."""
    if price <= 0:
        raise InputError("price.not_positive")
    cap = max_price(face_value, max_markup_percent)
    if price > cap:
        raise InputError("price.over_cap", max_price=cap, max_markup_percent=max_markup_percent)


# ---------------------------------------------------------------------------------------------------------------
# Seats


@dataclass(frozen=True, slots=True)
class Seat:
    section: str | None
    row: str | None
    number: str | None
    standing: bool = False

    def label(self, lang: str) -> str:
        """ "Сектор A, ряд 5, место 12" / "Section A, row 5, seat 12"; "Танцпол / без места" / "Standing / no
        assigned seat"; a standing zone with a name: that name."""
        ru = lang.lower().startswith("ru")
        if self.standing:
            if self.section:
                return self.section
            return "Танцпол / без места" if ru else "Standing / no assigned seat"
        parts: list[str] = []
        if self.section:
            if _SHORT_CODE.fullmatch(self.section):
                parts.append(("сектор " if ru else "section ") + self.section)
            else:
                parts.append(self.section)
        if self.row:
            parts.append(("ряд " if ru else "row ") + self.row)
        if self.number:
            parts.append(("место " if ru else "seat ") + self.number)
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]


_SHORT_CODE = re.compile(r"[0-9A-Za-zА-Яа-яЁё]{1,4}")
_STANDING_ONLY = {
    "-", "—", "–", "танцпол", "фан зона", "фанзона", "стоячее", "стоячие", "стоячий", "стоя", "без места",
    "standing", "standing only", "general admission", "ga", "no seat", "dance floor", "fan zone",
}  # fmt: skip
_STANDING_ZONE = re.compile(r"(?:танцпол|фан[ -]?зона|dance ?floor|fan ?zone|standing|general admission)\b.*")
_VALUE = r"(?:\d{1,4}[a-zа-я]?|[a-zа-я]{1,2}\d{0,3})"
_ROW_LABEL = r"(?:ряд|row|р\.|р(?=\s*\d)|r\.|r(?=\s*\d))"
_SEAT_LABEL = r"(?:места|место|кресло|seat|м\.|м(?=\s*\d))"
_ROW_FIRST = re.compile(rf"(?<![\w]){_ROW_LABEL}\s*(?:№\s*)?(?P<v>{_VALUE})(?![\w])")
_SEAT_FIRST = re.compile(rf"(?<![\w]){_SEAT_LABEL}\s*(?:№\s*)?(?P<v>{_VALUE})(?![\w])")
_ROW_AFTER = re.compile(rf"(?<![\w])(?P<v>{_VALUE})(?:-?(?:й|ой|ий))?\s*(?:ряд|row)(?![\w])")
_SEAT_AFTER = re.compile(rf"(?<![\w])(?P<v>{_VALUE})(?:-?(?:е|ое))?\s*(?:место|seat)(?![\w])")
_ENDS_WITH_LABEL = re.compile(r"(?:ряд|row|место|seat)\W*$")
_ANY_LABEL = re.compile(r"(?<![\w])(?:ряд|row|места|место|кресло|seat)(?![\w])")
_SECTION_LABEL = re.compile(r"^(?:сектор|секция|section|sector|sect|sec)\.?\s*(?:№\s*)?")
_SECTION_WORDS = re.compile(
    r"(?<![\w])(?:сектор|секция|section|sector|ложа|балкон|партер|амфитеатр|бельэтаж|бенуар|мезонин|галерея"
    r"|ярус|трибуна|блок|зона|vip|box|block|zone|stand|tribune|balcony|stalls|circle|gallery|tier|level|floor)"
)


def _lower(text: str) -> str:
    """Lower case (ё as е) with the length kept, so that positions in it are positions in `text`."""
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text).replace("ё", "е")


def _seat_part(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip(" ,;:/-")
    if not value:
        return None
    if len(value) > SEAT_PART_MAX_LENGTH:
        raise InputError("seat.too_long", field=field, max_length=SEAT_PART_MAX_LENGTH)
    return value


def _section_of(leftover: str) -> str | None:
    section = leftover.strip(" ,;:/-")
    low = _lower(section)
    stripped = _SECTION_LABEL.sub("", low)
    if stripped != low and _SHORT_CODE.fullmatch(stripped):
        section = section[len(section) - len(stripped) :]  # "Сектор A" -> "A"
    return _seat_part(section, "section")


def parse_seat(text: str) -> Seat:
    """ "-" or a standing word (танцпол, фан-зона, стоячее, standing) -> a standing Seat; a named standing zone
    ("Фан-зона A") keeps its name as the section. Seated: "Партер, ряд 5, место 12", "Section A row 5 seat 12",
    "5 ряд 12 место", "ряд 5 место 12", "A/5/12" (section/row/seat), "5/12" (row/seat), or a section alone when it
    names one ("Ложа 3", "Сектор B"). Each part at most 30 characters."""
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        raise InputError("seat.unparsed")
    stripped = _strip(text)
    if any(_bad_char(ch) for ch in stripped):
        raise InputError("seat.bad_chars")
    original = " ".join(stripped.split())
    if not original:
        raise InputError("seat.unparsed")
    low = _lower(original)
    if low.rstrip(".!") in _STANDING_ONLY or low.replace("-", " ").rstrip(".!") in _STANDING_ONLY:
        return Seat(None, None, None, standing=True)
    if _STANDING_ZONE.fullmatch(low):
        return Seat(_seat_part(original, "section"), None, None, standing=True)

    if "/" in original and not _ANY_LABEL.search(low):
        pieces = [piece.strip() for piece in original.split("/")]
        if len(pieces) in (2, 3) and all(pieces):
            section = _section_of(pieces[0]) if len(pieces) == 3 else None
            row, number = _seat_part(pieces[-2], "row"), _seat_part(pieces[-1], "number")
            if row is not None and number is not None and (len(pieces) == 2 or section is not None):
                return Seat(section, row, number, standing=False)
        raise InputError("seat.unparsed")

    row_pattern, seat_pattern = (_ROW_AFTER, _SEAT_AFTER) if _ENDS_WITH_LABEL.search(low) else (_ROW_FIRST, _SEAT_FIRST)
    rows = list(row_pattern.finditer(low))
    seats = list(seat_pattern.finditer(low))
    if len(rows) > 1 or len(seats) > 1:
        raise InputError("seat.unparsed")
    spans = sorted(match.span() for match in rows + seats)
    if len(spans) == 2 and spans[0][1] > spans[1][0]:
        raise InputError("seat.unparsed")
    leftover = original
    for start, end in reversed(spans):
        leftover = leftover[:start] + " " + leftover[end:]
    leftover = " ".join(leftover.split())
    if _ANY_LABEL.search(leftover.lower()):
        raise InputError("seat.unparsed")
    row = original[rows[0].start("v") : rows[0].end("v")] if rows else None
    number = original[seats[0].start("v") : seats[0].end("v")] if seats else None
    if row is None and number is None and not _SECTION_WORDS.search(low):
        raise InputError("seat.unparsed")
    seat = Seat(_section_of(leftover), _seat_part(row, "row"), _seat_part(number, "number"), standing=False)
    if seat.section is None and seat.row is None and seat.number is None:
        raise InputError("seat.unparsed")
    return seat
