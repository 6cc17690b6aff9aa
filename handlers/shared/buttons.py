"""Inline buttons built once per text and data, and numbered labels read once per language.

A feed page draws some twenty buttons, each a pydantic model validated on construction (~5 us, with its
CallbackData packed: ~4 us more), and most of them are the same buttons every viewer of the same cards gets. These
caches hand out one instance per text and data: a button is never changed once built (nothing in the bot assigns
to a button's fields; aiogram serialises it as it is). A button is ~1.2 KB: the caches hold a few thousand, the cards
of the first pages people open, ~10 MB at most."""

from __future__ import annotations

from functools import lru_cache

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import get_i18n


@lru_cache(maxsize=2048)
def data_button(text: str, data: str) -> InlineKeyboardButton:
    """The button labelled `text` whose press carries `data` (a packed CallbackData)."""
    return InlineKeyboardButton(text=text, callback_data=data)


def numbered(key: str, number: int) -> str:
    """The message `key` with its {number}, in the update's language: "Buy #2"."""
    return _numbered(key, get_i18n().current_locale, number)


@lru_cache(maxsize=4096)
def _numbered(key: str, language: str, number: int) -> str:
    return get_i18n().gettext(key, locale=language).format(number=number)
