from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import gettext as _

from services.clock import Clock


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class ThrottlingMiddleware(BaseMiddleware):
    """Per-user token bucket on messages and button presses. Over the limit, the update is dropped and the
    user is told once per burst. Payments are never throttled. Time is the injected clock's (`clock`)."""

    def __init__(self, rate: float, burst: int, max_users: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    def _allow(self, user_id: int, now: float) -> tuple[bool, _Bucket]:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.max_users:
                self._buckets.clear()
            bucket = self._buckets[user_id] = _Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + max(now - bucket.updated, 0.0) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return True, bucket
        return False, bucket

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        if sender is None or (isinstance(event, Message) and event.successful_payment):
            return await handler(event, data)
        clock: Clock = data["clock"]
        allowed, bucket = self._allow(sender.id, clock.now().timestamp())
        if allowed:
            return await handler(event, data)
        if isinstance(event, CallbackQuery) or (not bucket.warned and isinstance(event, Message)):
            await event.answer(_("throttle-slow-down"))
        bucket.warned = True
        return None
