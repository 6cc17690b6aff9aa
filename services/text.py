"""Typed text cleaned for the sell wizard: edge whitespace trimmed, invisible characters refused, lengths bounded;
the event name and the venue are built on it. Refusals are `DomainError`s with "name.*" / "venue.*" codes."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from services.errors import DomainError

NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 120
MAX_INPUT = 500  # longer texts are refused before any parsing

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
)

_ALLOWED_FORMAT = {"\u200d"}  # zero-width joiner: inside emoji sequences


def is_bad_char(ch: str) -> bool:
    """A control or invisible formatting character (not tab, newline, or a joiner inside an emoji)."""
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch not in " \t\n\r"
    return category in ("Cf", "Cs", "Co", "Cn") and ch not in _ALLOWED_FORMAT


_SPACE = r"(?:[ \t\n\r]|(?![\x00-\x1f\x7f-\x9f])\s)"  # whitespace, but not the control characters str.strip eats
_EDGE_SPACE = re.compile(rf"^{_SPACE}+|{_SPACE}+$")


def strip_edges(text: str) -> str:
    """`text` without whitespace at either end (control characters are kept, to be refused)."""
    return _EDGE_SPACE.sub("", text)


class _TextCodes(NamedTuple):
    """The refusal codes of one kind of typed text (literal keys: the i18n test finds each in the catalogues)."""

    too_short: str
    too_long: str
    bad_chars: str
    no_letters: str


_NAME_CODES = _TextCodes("name.too_short", "name.too_long", "name.bad_chars", "name.no_letters")
_VENUE_CODES = _TextCodes("venue.too_short", "venue.too_long", "venue.bad_chars", "venue.no_letters")


def _clean_text(text: str, codes: _TextCodes) -> str:
    if not isinstance(text, str):
        raise DomainError(codes.too_short, min_length=NAME_MIN_LENGTH)
    stripped = strip_edges(text)
    if len(stripped) > MAX_INPUT * 2:
        raise DomainError(codes.too_long, max_length=NAME_MAX_LENGTH)
    if any(is_bad_char(ch) for ch in stripped):
        raise DomainError(codes.bad_chars)
    value = " ".join(stripped.split())
    if len(value) < NAME_MIN_LENGTH:
        raise DomainError(codes.too_short, min_length=NAME_MIN_LENGTH)
    if len(value) > NAME_MAX_LENGTH:
        raise DomainError(codes.too_long, max_length=NAME_MAX_LENGTH)
    if not any(ch.isalnum() for ch in value):
        raise DomainError(codes.no_letters)
    return value


def parse_event_name(text: str) -> str:
    """Trimmed, inner whitespace collapsed to single spaces, 2-120 characters, at least one letter or digit;
    control and invisible formatting characters are refused, not stripped."""
    return _clean_text(text, _NAME_CODES)


def parse_venue(text: str) -> str:
    """As `parse_event_name`, with "venue.*" codes."""
    return _clean_text(text, _VENUE_CODES)
