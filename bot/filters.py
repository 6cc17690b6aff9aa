"""Filters shared by several routers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser

from bot.settings import Settings


class IsAdmin(Filter):
    """Put on an admin router: anyone not in ADMIN_IDS falls through to the unknown-command answer."""

    async def __call__(self, event: TelegramObject, settings: Settings, event_from_user: TelegramUser | None) -> bool:
        return event_from_user is not None and event_from_user.id in settings.admin_ids
