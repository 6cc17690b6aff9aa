"""One person's updates one at a time across instances (bot/isolation.py), in real Redis: two instances' isolations
on one server never let a person's updates overlap, other people are not held up, a lock is released only by its
holder, a killed holder's lock lapses, and aiogram's own Redis lock (an instance of the previous version during a
rolling restart) excludes and is excluded the same way. The storage reads the locked person's state and data from
Redis once per update, keeps its copy true to its own writes, and reads everyone else (and anyone outside a lock)
from Redis."""

from __future__ import annotations

import asyncio

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis

from bot.factory import create_isolation
from bot.isolation import PersonRedisStorage, SharedIsolation

BUILDER = DefaultKeyBuilder(with_destiny=True)  # as the bot's RedisStorage builds its keys


def person(user_id: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)


async def test_a_persons_updates_never_overlap_across_two_instances(redis: Redis) -> None:
    instances = [SharedIsolation(redis, BUILDER), SharedIsolation(redis, BUILDER)]
    inside, most, order = 0, 0, []

    async def update(n: int) -> None:
        nonlocal inside, most
        async with instances[n % 2].lock(person(7)):
            inside += 1
            most = max(most, inside)
            order.append(n)
            await asyncio.sleep(0.002)  # the handler's awaits: others get the loop meanwhile
            inside -= 1

    await asyncio.gather(*(update(n) for n in range(30)))
    assert most == 1 and sorted(order) == list(range(30))
    assert not instances[0]._local and not instances[1]._local  # no per-person lock left behind
    assert await redis.exists(BUILDER.build(person(7), "lock")) == 0


async def test_other_people_are_not_held_up(redis: Redis) -> None:
    isolation = SharedIsolation(redis, BUILDER)
    # with person 1's lock held, person 2's is taken at once (it would wait for ever if the keys collided)
    async with isolation.lock(person(1)), asyncio.timeout(5), isolation.lock(person(2)):
        pass


async def test_a_lock_outlived_by_its_timeout_is_not_released_by_its_first_holder(redis: Redis) -> None:
    slow, other = SharedIsolation(redis, BUILDER, timeout=0.05), SharedIsolation(redis, BUILDER)
    name = BUILDER.build(person(3), "lock")
    holds, done = asyncio.Event(), asyncio.Event()

    async def second() -> None:
        async with other.lock(person(3)):
            holds.set()
            await done.wait()

    async with slow.lock(person(3)):
        await asyncio.sleep(0.1)  # past its timeout: the lock lapsed (a killed instance's would the same way)
        task = asyncio.create_task(second())
        async with asyncio.timeout(5):
            await holds.wait()  # the other instance took the lapsed lock
    assert await redis.get(name) is not None  # the first holder's release left the second's lock alone
    done.set()
    await task
    assert await redis.get(name) is None  # the second released its own


async def test_aiogram_redis_lock_and_this_one_exclude_each_other(redis: Redis) -> None:
    old, new = RedisEventIsolation(redis, BUILDER), SharedIsolation(redis, BUILDER)
    inside, most = 0, 0

    async def update(isolation: RedisEventIsolation | SharedIsolation) -> None:
        nonlocal inside, most
        async with isolation.lock(person(5)):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(update(old if n % 2 else new) for n in range(8)))
    assert most == 1


def test_the_isolation_follows_the_storage(redis: Redis) -> None:
    assert isinstance(create_isolation(RedisStorage(redis, key_builder=BUILDER)), SharedIsolation)
    assert isinstance(create_isolation(MemoryStorage()), SimpleEventIsolation)


class Wizard(StatesGroup):
    name = State()


async def test_the_locked_persons_records_are_read_once_per_update(redis: Redis) -> None:
    storage = PersonRedisStorage(redis, key_builder=BUILDER)
    isolation = SharedIsolation(redis, BUILDER)
    me, other = person(8), person(9)
    await storage.set_state(me, Wizard.name)
    await storage.set_data(me, {"step": 1})
    async with isolation.lock(me):
        assert await storage.get_state(me) == Wizard.name.state
        await redis.set(BUILDER.build(me, "data"), '{"step": 99}')  # behind its back: only to show the copy is used
        assert await storage.get_data(me) == {"step": 1}  # read with the state, in the same MGET
        await storage.update_data(me, {"price": 5})
        assert await redis.get(BUILDER.build(me, "data")) == b'{"step": 1, "price": 5}'  # written through at once
        assert await storage.get_data(me) == {"step": 1, "price": 5}
        (await storage.get_data(me))["step"] = 7  # the caller's dict: the copy is not changed by it
        assert await storage.get_data(me) == {"step": 1, "price": 5}
        await storage.set_state(me, None)
        await storage.set_data(me, {})
        assert (await storage.get_state(me), await storage.get_data(me)) == (None, {})
        assert await redis.exists(BUILDER.build(me, "state"), BUILDER.build(me, "data")) == 0
        await redis.set(BUILDER.build(other, "state"), "Wizard:name")
        assert await storage.get_state(other) == "Wizard:name"  # not the locked person: from Redis
    await redis.set(BUILDER.build(me, "state"), "Wizard:name")
    assert await storage.get_state(me) == "Wizard:name"  # outside the lock: from Redis
    async with isolation.lock(me):  # a new update reads afresh
        assert await storage.get_state(me) == "Wizard:name"
