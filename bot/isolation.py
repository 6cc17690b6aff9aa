"""One person's updates one at a time across every instance (the dispatcher's events isolation, in Redis).

aiogram's RedisEventIsolation takes redis-py's Lock, which retries a taken lock every 100 ms. In a fleet that wait is
the common case, not the exception: the person's next click follows the bot's answer at once, lands on the other
instance (round robin), and finds the lock still held while the previous update closes its session; it then waited
a whole 100 ms, and a person turning pages waited that on most clicks. Here the lock is first taken among this
process's own updates (an asyncio lock per person: a waiter is woken the moment it is free, no Redis round trip),
then in Redis with the same key and protocol as aiogram's (SET NX PX with a token, released by compare-and-delete,
so old and new instances exclude each other during a rolling restart), retried after 2 ms, doubling to 50 ms.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, KeyBuilder, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

# Deleted only by the holder (the token it set): a lock that outlived its timeout and was taken by another update is
# not released by the first.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class _Local:
    """A person's lock in this process and the number of updates holding or awaiting it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class SharedIsolation(BaseEventIsolation):
    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder,
        *,
        timeout: float = 60.0,
        first_retry: float = 0.002,
        last_retry: float = 0.05,
    ) -> None:
        """`timeout`: how long an update may hold a person's lock before it lapses (a killed instance's); retries
        after `first_retry` seconds, doubling up to `last_retry`."""
        self.redis = redis
        self.key_builder = key_builder
        self.timeout_ms = int(timeout * 1000)
        self.first_retry = first_retry
        self.last_retry = last_retry
        self._release = redis.register_script(_RELEASE)
        self._local: dict[str, _Local] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        local = self._local.get(name) or self._local.setdefault(name, _Local())
        local.users += 1
        try:
            async with local.lock:
                token = uuid.uuid4().hex
                await self._acquire(name, token)
                try:
                    yield None
                finally:
                    await self._release(keys=[name], args=[token])
        finally:
            local.users -= 1
            if not local.users:
                del self._local[name]

    async def _acquire(self, name: str, token: str) -> None:
        retry = self.first_retry
        while not await self.redis.set(name, token, nx=True, px=self.timeout_ms):
            await asyncio.sleep(retry)
            retry = min(retry * 2, self.last_retry)

    async def close(self) -> None:
        pass


def create_isolation(storage: BaseStorage) -> BaseEventIsolation:
    """In Redis beside the FSM state when that is in Redis (several instances); otherwise in the process."""
    if isinstance(storage, RedisStorage):
        return SharedIsolation(storage.redis, storage.key_builder)
    return SimpleEventIsolation()
