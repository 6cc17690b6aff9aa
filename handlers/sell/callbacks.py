"""The sell wizard's states and buttons. Every button names the step it was drawn on: one from an older step is
stale and refused."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from db.models import EventType, GroupMode
from handlers.shared.ids import RowId
from services.draft import SeatStep, Step

PICK = "pick"  # the barcode choice after a photo with several
MORE_PICK = "more_pick"  # the same for the photo of a seat being added
SUMMARY = "summary"


class SellWizard(StatesGroup):
    type = State()
    name = State()
    city = State()
    venue = State()
    when = State()
    seat = State()
    face = State()
    price = State()
    photo = State()
    pick = State()
    summary = State()
    more_seat = State()  # SeatStep.SEAT: another seat of this event
    more_photo = State()  # SeatStep.PHOTO: its photo
    more_pick = State()
    mode = State()  # SeatStep.MODE: sold together or separately
    total = State()  # SeatStep.TOTAL: the one price of seats sold together


STATES: dict[str, State] = {state.state.split(":", 1)[1]: state for state in SellWizard.__all_states__ if state.state}
SEAT_STEPS = (*SeatStep, MORE_PICK)


class SellAction(enum.StrEnum):
    TYPE = "type"
    CITY = "city"
    SKIP = "skip"
    PICK = "pick"
    BACK = "back"
    CANCEL = "cancel"
    PUBLISH = "publish"
    EDIT = "edit"
    GOTO = "goto"
    ADD = "add"  # add another seat of this event
    MODE = "mode"
    PREFILL = "prefill"  # take a Wallet pass's event details


class SellCD(CallbackData, prefix="sell"):
    action: SellAction
    step: str  # the step the button was drawn on (a Step, "pick" or "summary")
    kind: EventType | None = None  # type: the event type
    goto: Step | None = None  # goto: the step to edit
    city: RowId = 0  # city: the city id
    index: int = 0  # pick: the barcode's index among those found
    mode: GroupMode | None = None  # mode: sold together or separately


class ClaimCD(CallbackData, prefix="claim"):
    """ "This is my ticket" under a refusal: the listing and the token only that refused person holds."""

    ticket: RowId
    token: str
