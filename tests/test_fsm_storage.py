"""FSM state and data survive in the database storage and in Redis, and bind to the update's session."""

from __future__ import annotations

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey

from db.engine import create_engine, create_sessionmaker
from db.fsm_storage import SqlFsmStorage
from tests.conftest import Backend


class Wizard(StatesGroup):
    step = State()


KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


def _storage(stack: Backend, sessionmaker) -> BaseStorage:  # type: ignore[no-untyped-def]
    if stack.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(stack.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True))
    return SqlFsmStorage(sessionmaker)


async def test_state_and_data_survive_a_new_storage(stack: Backend) -> None:
    engine = create_engine(stack.database_url)
    sessionmaker = create_sessionmaker(engine)
    first = _storage(stack, sessionmaker)
    await first.set_state(KEY, Wizard.step)
    await first.set_data(KEY, {"name": "Кино", "price": 2500})
    await first.close()

    second = _storage(stack, sessionmaker)  # a restarted bot
    assert await second.get_state(KEY) == Wizard.step.state
    assert await second.get_data(KEY) == {"name": "Кино", "price": 2500}
    await second.set_state(KEY, None)
    await second.set_data(KEY, {})
    assert await second.get_state(KEY) is None
    assert await second.get_data(KEY) == {}
    await second.close()
    await engine.dispose()


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_sql_storage_joins_the_update_transaction(backend: Backend, outcome: str) -> None:
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    storage = SqlFsmStorage(sessionmaker)
    async with sessionmaker() as session:
        bound = storage.bound(session)
        await bound.set_state(KEY, Wizard.step)
        assert await bound.get_state(KEY) == Wizard.step.state
        await (session.commit() if outcome == "commit" else session.rollback())
    expected = Wizard.step.state if outcome == "commit" else None
    assert await storage.get_state(KEY) == expected
    await engine.dispose()
