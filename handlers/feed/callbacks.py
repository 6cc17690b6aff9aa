"""The feed's buttons and input states: pages, and the filters by event type, city and words."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from db.models import EventType
from handlers.shared.ids import RowId
from services.feed import Direction


class FeedAction(enum.StrEnum):
    PAGE = "page"
    TYPES = "types"  # open the event type picker
    TYPE = "type"  # set the event type filter
    CITY = "city"  # ask for a city
    SET_CITY = "setcity"
    SEARCH = "search"
    CLEAR = "clear"


class FeedCD(CallbackData, prefix="feed"):
    action: FeedAction
    at: int = 0  # page: the key of a page edge, created_at in microseconds since the epoch; 0 = the first page
    key: RowId = 0  # page: the edge's ticket id
    dir: Direction = Direction.AT
    kind: EventType | None = None  # type: the event type, None = any
    city: RowId = 0  # setcity: the city id, 0 = any


class FeedInput(StatesGroup):
    city = State()
    search = State()
