"""Buy's buttons: Buy and "tell me when it's free" under a card, letting a hold go under the invoice."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from handlers.shared.ids import RowId


class BuyAction(enum.StrEnum):
    BUY = "buy"
    WAIT = "wait"


class BuyView(enum.StrEnum):
    """What the message carrying Buy shows, to draw it again once the ticket is sold (handlers/buy/pages.py)."""

    CARD = "c"  # the ticket alone: a shared card, a notice offering it
    FEED = "f"  # a feed page
    EVENT = "e"  # an event page


class BuyCD(CallbackData, prefix="buy"):
    """A card's Buy button; `on`, what its message shows, and `at`/`key` the page it was drawn on (a feed page: its
    first card's edge; an event page: the (price, ticket) its tickets start after), to redraw it when the ticket is
    gone."""

    action: BuyAction
    id: RowId  # ticket id
    at: int = 0
    key: RowId = 0
    on: BuyView = BuyView.CARD


class HoldAction(enum.StrEnum):
    CANCEL = "cancel"


class HoldCD(CallbackData, prefix="hold"):
    action: HoldAction
    id: RowId  # order id
