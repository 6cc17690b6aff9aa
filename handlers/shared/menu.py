"""The main menu and the contact keyboard: reply keyboards every feature shares."""

from __future__ import annotations

from functools import lru_cache

from aiogram import F
from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import texts_for

MENU_KEYS = ("menu-feed", "menu-sell", "menu-my", "menu-profile", "menu-help")
MENU_TEXTS = frozenset().union(*(texts_for(key) for key in MENU_KEYS))  # never taken for a wizard's typed answer
NOT_NAVIGATION = ~F.text.in_(MENU_TEXTS) & ~F.text.startswith("/")  # neither a menu button nor a command


def main_menu() -> ReplyKeyboardMarkup:
    return _main_menu(get_i18n().current_locale)


@lru_cache(maxsize=8)  # one per language, shared as the buttons are (handlers.shared.buttons)
def _main_menu(_language: str) -> ReplyKeyboardMarkup:
    feed, sell, my, profile, help_ = (KeyboardButton(text=_(key)) for key in MENU_KEYS)
    return ReplyKeyboardMarkup(
        keyboard=[[feed, sell], [my, profile], [help_]],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=_("menu-placeholder"),
    )


def contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("reg-share-contact"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
