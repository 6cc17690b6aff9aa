"""My purchases' buttons (also under a delivered ticket) and the dispute's: typed data and input states."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from handlers.shared.ids import RowId


class PurchaseAction(enum.StrEnum):
    SHOW = "show"  # the barcode again
    DISPUTE = "dispute"
    LIST = "list"


class PurchaseCD(CallbackData, prefix="pur"):
    action: PurchaseAction
    id: RowId = 0  # order id


class DisputeAction(enum.StrEnum):
    REPLY = "reply"  # the seller adds their words


class DisputeCD(CallbackData, prefix="disp"):
    action: DisputeAction
    id: RowId  # dispute id


class DisputeInput(StatesGroup):
    buyer_words = State()
    seller_words = State()
