"""Masking what would take a deal out of the bot: links, @usernames, e-mails and phone numbers typed into a chat."""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "[hidden]"

# A dot, spaced out or written out, as people do to get past a filter: "site . com", "site dot com", "site (dot) ru",
# "site точка ру". A dot followed by one space only ends a sentence ("home. Me too"), so it is not one.
_DOT = r"(?:\.|\s+\.\s+|\s*[\(\[]\s*(?:dot|точка)\s*[\)\]]\s*|\s+(?:dot|точка)\s+)"
_AT = r"(?:\s*@\s*|\s*[\(\[]\s*(?:at|собака)\s*[\)\]]\s*|\s+(?:at|собака)\s+)"
_TLD = (
    r"(?:com|ru|net|org|info|biz|io|me|su|рф|ua|by|kz|uk|de|app|dev|site|online|store|shop|link|xyz|cc|co|tv|pro|"
    r"top|club|ly|gl|gg|to|ws|tk)"
)
_LABEL = r"[\w-]+"

_PATTERNS = [
    # Anything with a scheme, and Telegram's own links however written.
    re.compile(r"\b(?:https?|tg|ftp)\s*:\s*/*\S+", re.IGNORECASE),
    re.compile(r"\b(?:t|telegram)" + _DOT + r"(?:me|dog)\b\s*/?\S*", re.IGNORECASE),
    re.compile(r"\bwww" + _DOT + r"\S+", re.IGNORECASE),
    # E-mails, also "name at mail dot ru".
    re.compile(
        _LABEL + r"(?:\.[\w-]+)*" + _AT + _LABEL + r"(?:" + _DOT + _LABEL + r")*" + _DOT + _TLD + r"\b", re.IGNORECASE
    ),
    # Bare domains: "example.com/path", "example dot com".
    re.compile(r"\b" + _LABEL + r"(?:" + _DOT + _LABEL + r")*" + _DOT + _TLD + r"\b(?:/\S*)?", re.IGNORECASE),
    # @usernames (Telegram's are 5-32 characters; shorter ones are masked too, they may be other services').
    re.compile(r"@\s*[A-Za-z][A-Za-z0-9_]{2,}"),
    # Phone numbers: ten or more digits with spaces, dots, dashes, brackets or a plus between them. A run that goes
    # on into a time ("12.12.2026 19:00") is a date, not a phone.
    re.compile(r"\+?\d(?:[\s().\-+/]{0,4}\d){9,}(?![\d:])"),
]


@dataclass(frozen=True)
class Masked:
    text: str
    masked: bool  # something was hidden: the handler adds a short note why


def mask_contacts(text: str) -> Masked:
    """`text` with every link, @username, e-mail and phone number replaced by MASK."""
    result = text
    for pattern in _PATTERNS:
        result = pattern.sub(MASK, result)
    return Masked(result, result != text)
