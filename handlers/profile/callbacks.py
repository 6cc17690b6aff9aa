"""The profile's button and input state: renaming."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup


class ProfileAction(enum.StrEnum):
    RENAME = "rename"


class ProfileCD(CallbackData, prefix="prof"):
    action: ProfileAction


class ProfileEdit(StatesGroup):
    name = State()
