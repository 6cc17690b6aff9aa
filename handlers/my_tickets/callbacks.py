"""My tickets' buttons: the tabs and their pages, Withdraw (asked, then confirmed) and Show barcode."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from handlers.shared.ids import RowId
from services.listings import Tab


class MyAction(enum.StrEnum):
    TAB = "tab"
    WITHDRAW = "withdraw"
    CONFIRM = "confirm"
    BARCODE = "barcode"


class MyCD(CallbackData, prefix="my"):
    action: MyAction
    tab: Tab = Tab.ON_SALE
    at: int = 0  # tab: the key of the page's first ticket (created_at in microseconds); 0 = the first page
    key: RowId = 0  # tab: the key's ticket id
    id: RowId = 0  # withdraw, confirm, barcode: the ticket
