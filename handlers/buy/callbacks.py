"""Buy's buttons: Buy and "tell me when it's free" under a card, letting a hold go under the invoice."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from handlers.shared.ids import RowId


class BuyAction(enum.StrEnum):
    BUY = "buy"
    WAIT = "wait"


class BuyCD(CallbackData, prefix="buy"):
    """A card's Buy button; `at`/`key` are the feed page it was drawn on, to redraw it when the ticket is gone."""

    action: BuyAction
    id: RowId  # ticket id
    at: int = 0
    key: RowId = 0


class HoldAction(enum.StrEnum):
    CANCEL = "cancel"


class HoldCD(CallbackData, prefix="hold"):
    action: HoldAction
    id: RowId  # order id
