"""The event page's buttons. An event is named by one of its tickets (an event key would not fit beside a page
edge in 64 bytes)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from handlers.shared.ids import RowId


class EventAction(enum.StrEnum):
    OPEN = "open"  # the first page
    PAGE = "page"  # the page after (price, after)
    JOIN = "join"  # join the event's waiting list


class EventCD(CallbackData, prefix="ev"):
    action: EventAction
    id: RowId  # a ticket of the event
    price: RowId = 0  # page: the previous page's last ticket's price ...
    after: RowId = 0  # ... and id; 0 = the first page
