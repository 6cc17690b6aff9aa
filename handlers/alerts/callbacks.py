"""The alerts' buttons and the price prompt."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from handlers.shared.ids import RowId


class AlertAction(enum.StrEnum):
    FEED = "feed"  # save the feed's filters
    EVENT = "event"  # save the event of ticket `id`
    ANY_PRICE = "any"  # save without a highest price
    DELETE = "del"  # delete alert `id`


class AlertCD(CallbackData, prefix="al"):
    action: AlertAction
    id: RowId = 0


class AlertInput(StatesGroup):
    price = State()  # the highest price, typed
