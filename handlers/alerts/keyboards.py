"""The alerts' keyboards: "any price" under the price prompt, Delete under /alerts."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.models import Alert
from handlers.alerts.callbacks import AlertAction, AlertCD


def any_price_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("alerts-any-price"), callback_data=AlertCD(action=AlertAction.ANY_PRICE))
    return keyboard.as_markup()


def list_keyboard(alerts: Sequence[Alert]) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for number, alert in enumerate(alerts, start=1):
        data = AlertCD(action=AlertAction.DELETE, id=alert.id)
        keyboard.button(text=_("alerts-delete").format(number=number), callback_data=data)
    keyboard.adjust(5)
    return keyboard.as_markup()
