"""The share and rating buttons, and the rating's input state."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from handlers.shared.ids import RowId

RATING_KEY = "rating"  # in the FSM data while the buyer adds words: [order id, stars]


class TrustAction(enum.StrEnum):
    SHARE = "share"  # id: the ticket's; the card with its link
    RATE = "rate"  # id: the order's; pick the stars
    STARS = "stars"  # stars picked; words next
    SKIP = "skip"  # no words: the rating as it is


class TrustCD(CallbackData, prefix="trust"):
    action: TrustAction
    id: RowId
    stars: int = 0


class RatingInput(StatesGroup):
    words = State()
