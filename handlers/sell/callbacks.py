"""The sell wizard's states and buttons. Every button names the step it was drawn on: one from an older step is
stale and refused."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from db.models import EventType
from handlers.shared.ids import RowId
from services.draft import Step

PICK = "pick"  # the barcode choice after a photo with several
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


STATES: dict[str, State] = {state.state.split(":", 1)[1]: state for state in SellWizard.__all_states__}


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
    PREFILL = "prefill"  # take a Wallet pass's event details


class SellCD(CallbackData, prefix="sell"):
    action: SellAction
    step: str  # the step the button was drawn on (a Step, "pick" or "summary")
    kind: EventType | None = None  # type: the event type
    goto: Step | None = None  # goto: the step to edit
    city: RowId = 0  # city: the city id
    index: int = 0  # pick: the barcode's index among those found


class ClaimCD(CallbackData, prefix="claim"):
    """ "This is my ticket" under a refusal: the listing and the token only that refused person holds."""

    ticket: RowId
    token: str
