"""The admins' buttons and input state: figures, the outdated list's pages, block / unblock, money decisions."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from handlers.shared.ids import RowId
from services.feed import Direction


class AdminAction(enum.StrEnum):
    STATS = "stats"
    OUTDATED = "out"
    BLOCK = "block"
    UNBLOCK = "unblock"


class AdminCD(CallbackData, prefix="adm"):
    action: AdminAction
    ticket: RowId = 0  # block, unblock: the ticket
    page: RowId = 0  # out: the page number
    at: int = 0  # out: the edge's event time, microseconds since the epoch (0: from the top)
    key: RowId = 0  # out: the edge's ticket id
    dir: Direction = Direction.AT  # out: OLDER after the edge, NEWER before it, AT from the /admin menu


class Moderate(StatesGroup):
    reason = State()  # data: action (block | unblock), ticket_id


class MoneyAction(enum.StrEnum):
    PAID = "paid"  # a payout was paid by hand
    REFUND = "refund"  # a dispute: refund the buyer
    RELEASE = "release"  # a dispute: release to the seller
    REFUNDED = "refunded"  # a refund task was done by hand


class MoneyCD(CallbackData, prefix="money"):
    action: MoneyAction
    id: RowId  # paid: the payout; refund, release: the dispute; refunded: the refund task


class ClaimDecisionCD(CallbackData, prefix="aclm"):
    claim: RowId
    uphold: bool  # True: block the listing (the claimant may list it); False: dismiss, back on sale
