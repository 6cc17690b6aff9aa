"""The event's date and time as a seller types it, placed in the city's zone.

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
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names

from services.errors import DomainError
from services.text import MAX_INPUT

ERROR_CODES: tuple[str, ...] = (
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
)


def _fold_word(word: str) -> str:
    return word.lower().replace("ё", "е").rstrip(".")


def _word_table(
    names_by_number: Sequence[Mapping[int, str]], *, prefixes_of: Sequence[Mapping[int, str]]
) -> dict[str, int]:
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
            raise DomainError("date.unparsed")
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
                raise DomainError("date.unparsed")
    return tokens


def _clock(hour: int, minute: int, ampm: str | None) -> tuple[int, int]:
    """(hour, minute) in 24 h; raises date.invalid_time."""
    if ampm is not None:
        if not 1 <= hour <= 12 or minute > 59:
            raise DomainError("date.invalid_time", hour=hour, minute=minute)
        hour = hour % 12 + (12 if ampm == "p" else 0)
    if hour > 23 or minute > 59:
        raise DomainError("date.invalid_time", hour=hour, minute=minute)
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
                raise DomainError("date.unparsed")
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
        raise DomainError("date.invalid_date", day=day, month=month, year=year)
    if year is not None:
        if year < 1970:
            raise DomainError("date.past")
        if year > today.year + 100:
            raise DomainError("date.too_far", max_days=None)
        return date(year, month, day)
    for candidate_year in (today.year, today.year + 1):
        if _valid_day(day, month, candidate_year):
            candidate = date(candidate_year, month, day)
            if candidate >= today:
                return candidate
    raise DomainError("date.invalid_date", day=day, month=month, year=today.year + 1)


def parse_event_datetime(text: str, tz: str, now: datetime, *, max_ahead: timedelta = timedelta(days=365)) -> datetime:
    """The moment (aware, UTC) that `text`, a local date and time in zone `tz`, names. See the module's docstring
    for the accepted forms; every refusal is a DomainError with a "date.*" code."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    zone = ZoneInfo(tz)
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        raise DomainError("date.unparsed")
    parts = _assemble(_tokenize(text))
    _resolve_time_like_dates(parts)
    if len(parts.dates) > 1 or len(parts.times) > 1 or len(parts.weekdays) > 1:
        raise DomainError("date.unparsed")
    if not parts.dates:
        raise DomainError("date.no_date" if parts.times else "date.unparsed")
    if not parts.times:
        raise DomainError("date.no_time")
    max_days = max_ahead.days
    today = now.astimezone(zone).date()
    try:
        local_date = _local_date(parts.dates[0], today)
    except DomainError as error:
        if error.code == "date.too_far":
            raise DomainError("date.too_far", max_days=max_days) from None
        raise
    if parts.weekdays and parts.weekdays[0] != local_date.weekday():
        raise DomainError("date.weekday_mismatch", weekday=local_date.weekday())
    hour, minute = parts.times[0]
    naive = datetime.combine(local_date, time(hour, minute))
    local = naive.replace(tzinfo=zone)  # fold=0: of a repeated hour, the earlier
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != naive:
        raise DomainError("date.nonexistent", local=naive)
    if moment <= now:
        raise DomainError("date.past")
    if moment - now > max_ahead:
        raise DomainError("date.too_far", max_days=max_days)
    return moment
