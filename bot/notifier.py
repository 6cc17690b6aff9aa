"""Messages the bot starts itself (sweeps, sales, admin actions), within Telegram's limits: about 30 messages
a second overall and one a second per chat (after a burst of PER_CHAT_BURST, one under what Telegram allows); 429 waits
retry_after (a few times, then gives up); a user who blocked the bot (403) is marked through `on_blocked` and not
retried; `notify(user, ...)` skips a user already marked, so a sweep doesn't knock on a blocked chat every minute.
Several instances share the overall rate through Redis (`SharedRate`). Telegram's 5xx is retried like a 429 (a
network error is not: the message may have gone out). Nothing here raises a Telegram error."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiolimiter import AsyncLimiter

from db.models import User

if TYPE_CHECKING:
    from redis.asyncio import Redis  # imported only where REDIS_URL is set (bot.factory)

log = logging.getLogger(__name__)

# Messages a chat may get at once before the one-a-second pace: one fewer than Telegram's burst of about 3, so that
# the calls' uneven travel times (the first slow, the fourth quick) never make Telegram count one over its limit.
PER_CHAT_BURST = 2
SERVER_ERROR_PAUSE = 1.0  # seconds before retrying after a Telegram 5xx
NOT_MODIFIED = "message is not modified"  # Telegram's 400 for an edit that changes nothing


class Delivery(enum.Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot or deleted the account
    FAILED = "failed"  # refused (400) or still failing after the retries
    RETRY_AFTER = "retry_after"  # 429: one try's outcome, Telegram says when to try again
    SERVER_ERROR = "server_error"  # 5xx: one try's outcome
    NETWORK_ERROR = "network_error"  # timeout, connection lost: one try's outcome; it may have gone out


@dataclass(frozen=True)
class Attempt:
    """The outcome of one try."""

    delivery: Delivery
    retry_after: float = 0.0
    error: str | None = None


# A slot in the current second's window: KEYS[1] the second's counter; ARGV[1] the limit. 1 taken, 0 full.
_SLOT = """
local taken = redis.call('INCR', KEYS[1])
if taken == 1 then redis.call('EXPIRE', KEYS[1], 2) end
return taken <= tonumber(ARGV[1]) and 1 or 0
"""


class SharedRate:
    """At most `per_second` messages a second across every instance that shares the Redis server: a counter per
    wall-clock second (the instances' clocks agree to NTP's milliseconds); a full second waits for the next. A slot
    whose second is over by the time Redis grants it (a busy instance, a slow answer) is not used: the message would
    go out in the next second, over that second's own count; a slot of the current second is taken instead.
    `clock`: the wall clock, in seconds."""

    def __init__(
        self, redis: Redis, per_second: int, prefix: str = "notify-rate", clock: Callable[[], float] = time.time
    ) -> None:
        self.per_second = per_second
        self.prefix = prefix
        self.clock = clock
        self._script = redis.register_script(_SLOT)

    async def __aenter__(self) -> None:
        while True:
            second = int(self.clock())
            if await self._script(keys=[f"{self.prefix}:{second}"], args=[self.per_second]):
                if int(self.clock()) == second:
                    return
                continue  # granted too late: that second is over
            await asyncio.sleep(second + 1 - self.clock())

    async def __aexit__(self, *exc: object) -> None:
        return None


class Notifier:
    def __init__(
        self,
        bot: Bot,
        *,
        on_blocked: Callable[[int], Awaitable[None]] | None = None,
        per_second: float = 30,
        per_chat_second: float = 1,
        max_retries: int = 3,
        overall: AbstractAsyncContextManager[Any] | None = None,
    ) -> None:
        """`overall`: the global rate shared by several instances (SharedRate); by default this process's own."""
        self.bot = bot
        self.on_blocked = on_blocked
        self.max_retries = max_retries
        self._overall = overall or AsyncLimiter(per_second, 1)
        self._per_chat_rate = per_chat_second
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) > 10_000:
                self._chats.clear()
            limiter = self._chats[chat_id] = AsyncLimiter(PER_CHAT_BURST, PER_CHAT_BURST / self._per_chat_rate)
        return limiter

    async def send(self, chat_id: int, text: str, **kwargs: Any) -> bool:
        """Send a text message; True when delivered, False when the chat can't receive it."""
        return await self._deliver(chat_id, lambda: self.bot.send_message(chat_id, text, **kwargs)) == Delivery.SENT

    async def send_photo(self, chat_id: int, photo: Any, **kwargs: Any) -> bool:
        return await self._deliver(chat_id, lambda: self.bot.send_photo(chat_id, photo, **kwargs)) == Delivery.SENT

    async def notify(self, user: User, text: str, **kwargs: Any) -> bool:
        """A text message to an account; skipped (False) when the user is known to have blocked the bot. The flag
        is set here too on a 403, and cleared by the user's next message (CurrentUserMiddleware)."""
        if user.blocked_bot:
            return False
        chat_id = user.telegram_id
        delivery = await self._deliver(chat_id, lambda: self.bot.send_message(chat_id, text, **kwargs))
        if delivery == Delivery.BLOCKED:
            user.blocked_bot = True
        return delivery == Delivery.SENT

    async def attempt(self, chat_id: int, call: Callable[[], Awaitable[Any]]) -> Attempt:
        """One try of a Bot API call to `chat_id` within the limits (the outbox worker retries on its own terms)."""
        async with self._chat_limiter(chat_id), self._overall:
            try:
                await call()
                return Attempt(Delivery.SENT)
            except TelegramRetryAfter as error:
                return Attempt(Delivery.RETRY_AFTER, float(error.retry_after), error.message)
            except TelegramServerError as error:
                return Attempt(Delivery.SERVER_ERROR, error=error.message)
            except TelegramForbiddenError as error:
                log.info("chat %s blocked the bot; marked and skipped", chat_id)
                if self.on_blocked is not None:
                    await self.on_blocked(chat_id)
                return Attempt(Delivery.BLOCKED, error=error.message)
            except TelegramNetworkError as error:
                return Attempt(Delivery.NETWORK_ERROR, error=error.message)
            except TelegramBadRequest as error:
                if NOT_MODIFIED in error.message:  # an edit the message already shows (a retry after a lost answer)
                    return Attempt(Delivery.SENT)
                return Attempt(Delivery.FAILED, error=error.message)
            except TelegramAPIError as error:  # 400 chat not found, message too long...: refused for good
                return Attempt(Delivery.FAILED, error=error.message)

    async def _deliver(self, chat_id: int, call: Callable[[], Awaitable[Any]]) -> Delivery:
        for attempt in range(self.max_retries + 1):
            result = await self.attempt(chat_id, call)
            if result.delivery == Delivery.RETRY_AFTER:
                pause = result.retry_after
            elif result.delivery == Delivery.SERVER_ERROR:
                log.warning("chat %s: Telegram failed (%s); retrying", chat_id, result.error)
                pause = SERVER_ERROR_PAUSE
            elif result.delivery == Delivery.NETWORK_ERROR:  # the message may have gone out: not retried here
                log.warning("chat %s can't be messaged: %s", chat_id, result.error)
                return Delivery.FAILED
            else:
                if result.delivery == Delivery.FAILED:
                    log.warning("chat %s can't be messaged: %s", chat_id, result.error)
                return result.delivery
            if attempt < self.max_retries:
                await asyncio.sleep(pause)
        log.warning("gave up on chat %s after %s retries", chat_id, self.max_retries)
        return Delivery.FAILED
