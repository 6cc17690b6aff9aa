"""Per-person rate limit on messages and button presses: a token bucket in the process, or in Redis (shared by
every instance) when REDIS_URL is set."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import gettext as _

from services.clock import Clock

if TYPE_CHECKING:
    from redis.asyncio import Redis  # imported only where REDIS_URL is set (bot.factory)


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit, the first time in this burst: tell the person
    DROP = "drop"  # over the limit again: drop silently (a button press still gets its answer)


class Limiter(Protocol):
    async def hit(self, user_id: int, now: float) -> Verdict: ...


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class MemoryLimiter:
    """Token buckets in this process (one bot instance)."""

    def __init__(self, rate: float, burst: int, max_users: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    async def hit(self, user_id: int, now: float) -> Verdict:
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
            return Verdict.ALLOW
        verdict = Verdict.DROP if bucket.warned else Verdict.WARN
        bucket.warned = True
        return verdict


# The same bucket as one atomic script: KEYS[1] hash {tokens, updated, warned}; ARGV rate, burst, now.
# Returns 1 allow, 0 warn, -1 drop; the key expires once the bucket would be full again.
_BUCKET = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'warned')
local tokens, updated, warned = tonumber(b[1]) or burst, tonumber(b[2]) or now, b[3] == '1'
tokens = math.min(burst, tokens + math.max(now - updated, 0) * rate)
local verdict
if tokens >= 1 then tokens, warned, verdict = tokens - 1, false, 1
elseif warned then verdict = -1
else warned, verdict = true, 0 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now), 'warned', warned and '1' or '0')
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return verdict
"""
_VERDICTS = {1: Verdict.ALLOW, 0: Verdict.WARN, -1: Verdict.DROP}


class RedisLimiter:
    """Token buckets in Redis: every instance behind the load balancer counts the same presses."""

    def __init__(self, redis: Redis, rate: float, burst: int, prefix: str = "throttle") -> None:
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._script = redis.register_script(_BUCKET)

    async def hit(self, user_id: int, now: float) -> Verdict:
        verdict = await self._script(keys=[f"{self.prefix}:{user_id}"], args=[self.rate, self.burst, now])
        return _VERDICTS[int(verdict)]


class ThrottlingMiddleware(BaseMiddleware):
    """Over the limit, the update is dropped and the person is told once per burst (a button press always gets an
    answer). Payments are never throttled. Time is the injected clock's (`clock`)."""

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter

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
        verdict = await self.limiter.hit(sender.id, clock.now().timestamp())
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        if isinstance(event, CallbackQuery) or (verdict is Verdict.WARN and isinstance(event, Message)):
            await event.answer(_("throttle-slow-down"))
        return None
