"""Telegram's length limits: texts clipped with an ellipsis, lists cut to fit one message with a count of the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.utils.i18n import gettext as _

MESSAGE_LIMIT = 4096  # characters of a message's text, as Telegram counts them (UTF-16 code units)


def units(text: str) -> int:
    """The length as Telegram counts it. Counted on the HTML source, which is never shorter than the text shown."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def left_out(count: int) -> str:
    """The line under a cut list ("…and 12 more"), in the reader's language."""
    return _("list-more").format(count=count)


def fit_blocks(
    head: str,
    blocks: Sequence[str],
    more: Callable[[int], str] = left_out,
    *,
    limit: int = MESSAGE_LIMIT,
    separator: str = "\n\n",
) -> tuple[str, int]:
    """`head` and as many of `blocks` as fit in one message, in order, then `more(n)` when n were left out; and how
    many blocks were kept (the caller keeps their buttons only)."""
    text, kept = head, 0
    for block in blocks:
        left = len(blocks) - kept - 1
        candidate = text + separator + block
        tail = separator + more(left) if left else ""
        if units(candidate + tail) > limit:
            break
        text, kept = candidate, kept + 1
    if kept < len(blocks):
        text += separator + more(len(blocks) - kept)
    return text, kept
