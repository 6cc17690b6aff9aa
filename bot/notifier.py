"""Messages the bot starts itself (sweeps, sales, admin actions), within Telegram's limits: about 30 messages
a second overall and one a second per chat; 429 waits retry_after; a user who blocked the bot is marked and
skipped, not retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiolimiter import AsyncLimiter

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        bot: Bot,
        *,
        on_blocked: Callable[[int], Awaitable[None]] | None = None,
        per_second: float = 30,
        per_chat_second: float = 1,
        max_retries: int = 3,
    ) -> None:
        self.bot = bot
        self.on_blocked = on_blocked
        self.max_retries = max_retries
        self._overall = AsyncLimiter(per_second, 1)
        self._per_chat_rate = per_chat_second
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) > 10_000:
                self._chats.clear()
            limiter = self._chats[chat_id] = AsyncLimiter(1, 1 / self._per_chat_rate)
        return limiter

    async def send(self, chat_id: int, text: str, **kwargs: Any) -> bool:
        """Send a text message; True when delivered, False when the chat can't receive it."""
        return await self._deliver(chat_id, lambda: self.bot.send_message(chat_id, text, **kwargs))

    async def send_photo(self, chat_id: int, photo: Any, **kwargs: Any) -> bool:
        return await self._deliver(chat_id, lambda: self.bot.send_photo(chat_id, photo, **kwargs))

    async def _deliver(self, chat_id: int, call: Callable[[], Awaitable[Any]]) -> bool:
        for _attempt in range(self.max_retries + 1):
            async with self._chat_limiter(chat_id), self._overall:
                try:
                    await call()
                    return True
                except TelegramRetryAfter as error:
                    retry_after = error.retry_after
                except TelegramForbiddenError:
                    log.info("chat %s blocked the bot; marked and skipped", chat_id)
                    if self.on_blocked is not None:
                        await self.on_blocked(chat_id)
                    return False
                except TelegramBadRequest as error:
                    log.warning("chat %s can't be messaged: %s", chat_id, error.message)
                    return False
            await asyncio.sleep(retry_after)
        log.warning("gave up on chat %s after %s retries", chat_id, self.max_retries)
        return False
