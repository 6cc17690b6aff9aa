"""The chat's buttons and its input state: ask about a ticket, write into a conversation, close it, block."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from handlers.shared.ids import RowId

CONVERSATION_KEY = "talk_to"  # in the FSM data while writing: the conversation the next texts go to


class TalkAction(enum.StrEnum):
    ASK = "ask"  # id: the ticket's
    WRITE = "write"  # id: the conversation's; the next texts go there
    CLOSE = "close"
    BLOCK = "block"


class TalkCD(CallbackData, prefix="talk"):
    action: TalkAction
    id: RowId


class TalkInput(StatesGroup):
    writing = State()
