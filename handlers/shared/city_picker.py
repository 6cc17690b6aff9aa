"""The city picker every feature shares: the user types a few letters, the bot offers the matching real cities as
buttons (services.cities: Russian cities first, then the others, each by population)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.cities import City, get_directory

CITY_CHOICES = 8


def city_keyboard(
    query: str,
    language: str,
    data_for: Callable[[City], CallbackData],
    extra_rows: Sequence[Sequence[InlineKeyboardButton]] = (),
) -> InlineKeyboardMarkup | None:
    """Buttons for the cities matching `query` ("Москва, RU"), two a row, then `extra_rows`; None when no city
    matches (the caller asks to type again)."""
    found = get_directory().search(query, limit=CITY_CHOICES, language=language)
    if not found:
        return None
    keyboard = InlineKeyboardBuilder()
    for city in found:
        keyboard.button(text=city.label(language), callback_data=data_for(city))
    keyboard.adjust(2)
    for row in extra_rows:
        keyboard.row(*row)
    return keyboard.as_markup()


def picked_city(city_id: int) -> City | None:
    """The city a button named, or None for a forged or stale id."""
    return get_directory().get(city_id)
