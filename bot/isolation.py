"""One person's updates one at a time across every instance (the dispatcher's events isolation, in Redis), and
their FSM state and data read from Redis once per update.

aiogram's RedisEventIsolation takes redis-py's Lock, which retries a taken lock every 100 ms. In a fleet that wait is
the common case, not the exception: the person's next click follows the bot's answer at once, lands on the other
instance (round robin), and finds the lock still held while the previous update closes its session; it then waited
a whole 100 ms, and a person turning pages waited that on most clicks. Here the lock is first taken among this
process's own updates (an asyncio lock per person: a waiter is woken the moment it is free, no Redis round trip),
then in Redis with the same key and protocol as aiogram's (SET NX PX with a token, released by compare-and-delete,
so old and new instances exclude each other during a rolling restart), retried after 2 ms, doubling to 50 ms.

While an update holds the person's lock nothing else writes their state, so `PersonRedisStorage` reads the state
and the data together (one MGET) the first time the update asks for either and answers the handler's further
`get_state` / `get_data` from that copy (the state middleware, then a handler, then `update_data`: two to four
round trips before). Writes still go to Redis at once and update the copy.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

# Deleted only by the holder (the token it set): a lock that outlived its timeout and was taken by another update is
# not released by the first.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass
class _Held:
    """The person whose lock the running update holds, and their records as last read or written ("state",
    "data": Redis's raw values, None for none)."""

    key: StorageKey
    records: dict[str, bytes | str | None] = field(default_factory=dict)


_held: ContextVar[_Held | None] = ContextVar("held_person", default=None)


class _Local:
    """A person's lock in this process and the number of updates holding or awaiting it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class SharedIsolation(BaseEventIsolation):
    """A person's lock in this process, then in Redis (see the module's docstring); while it is held the running
    task's context names the person (`_held`), for PersonRedisStorage."""

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
                held = _held.set(_Held(key))
                try:
                    yield None
                finally:
                    _held.reset(held)
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


class PersonRedisStorage(RedisStorage):
    """aiogram's RedisStorage whose reads of the locked person's records come from one MGET per update (see the
    module's docstring); any other key, or a read outside the lock, goes to Redis as before."""

    def _copy(self, key: StorageKey) -> _Held | None:
        held = _held.get()
        return held if held is not None and held.key == key else None

    async def _record(self, key: StorageKey, part: Literal["state", "data"]) -> bytes | str | None:
        held = self._copy(key)
        if held is None:
            value: bytes | str | None = await self.redis.get(self.key_builder.build(key, part))
            return value
        if part not in held.records:
            parts: tuple[Literal["state"], Literal["data"]] = ("state", "data")
            values = await self.redis.mget([self.key_builder.build(key, each) for each in parts])
            for each, value in zip(parts, values, strict=True):
                held.records.setdefault(each, value)  # a record written since is already the copy
        return held.records[part]

    async def get_state(self, key: StorageKey) -> str | None:
        value = await self._record(key, "state")
        return value.decode() if isinstance(value, bytes) else value

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        value = await self._record(key, "data")
        if value is None:
            return {}
        data: dict[str, Any] = self.json_loads(value.decode() if isinstance(value, bytes) else value)
        return data

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await super().set_state(key, state)
        if held := self._copy(key):
            held.records["state"] = state.state if isinstance(state, State) else state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await super().set_data(key, data)
        if held := self._copy(key):
            held.records["data"] = self.json_dumps(data) if data else None
