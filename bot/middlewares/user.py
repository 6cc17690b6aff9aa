"""The middleware that hands each handler the registered person behind the update (or none)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser

from bot.i18n import language_for
from db.models import User
from db.repo import Repo


class CurrentUserMiddleware(BaseMiddleware):
    """Loads the sender's account once per update as `user` (None before registration; already there when the
    session middleware read it with the FSM state) and keeps its
    username and language fresh for the notifications sent outside updates."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        repo: Repo = data["repo"]
        user: User | None = data["user"] if "user" in data else await self._load(repo, sender)
        if user is not None and sender is not None:
            language = language_for(sender.language_code)
            if (user.username, user.language, user.blocked_bot) != (sender.username, language, False):
                await repo.users.set_profile_fields(user.id, username=sender.username, language=language)
                user.username, user.language, user.blocked_bot = sender.username, language, False
        data["user"] = user
        return await handler(event, data)

    @staticmethod
    async def _load(repo: Repo, sender: TelegramUser | None) -> User | None:
        """The account, unless the session middleware read it with the FSM state (SQL storage)."""
        return await repo.users.by_telegram_id(sender.id) if sender else None
