"""FSM state and data survive in the database storage and in Redis, and bind to the update's session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy import event, text

from bot.middlewares.db import commit_if_written
from db.engine import create_engine, create_sessionmaker
from db.fsm_storage import PENDING, SqlFsmStorage, write_pending
from db.repo import Repo
from tests.conftest import Backend
from tests.factories import make_user


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


async def test_an_updates_commit_writes_the_records_first(backend: Backend) -> None:
    """The update's commit (commit_if_written) writes the records through db.direct (write_pending) before it
    commits, nothing left for the commit's own hook: a record with data upserted, an emptied one deleted."""
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    storage = SqlFsmStorage(sessionmaker)
    for state, data in ((Wizard.step, {"name": "Кино", "seats": [1, 2]}), (None, {})):
        async with sessionmaker() as session:
            bound = storage.bound(session)
            await bound.set_state(KEY, state)
            await bound.set_data(KEY, data)
            await write_pending(session)
            assert PENDING not in session.info
            await commit_if_written(session)
        assert (await storage.get_state(KEY), await storage.get_data(KEY)) == (state and state.state, data)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM fsm_states")) == 0
    await engine.dispose()


async def test_records_alone_commit_on_their_own_on_sqlite(backend: Backend) -> None:
    """SQLite: an update that read outside a transaction and wrote only its record writes it as a transaction of
    its own, the connection never taken from the pool; beside any other write (here a change to the sender's
    account), in the update's transaction, and a rollback undoes both. On PostgreSQL always the latter."""
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    storage = SqlFsmStorage(sessionmaker)
    pool = engine.sync_engine.pool
    alone = backend.name == "sqlite"
    async with sessionmaker() as session, session.begin():
        await make_user(Repo(session), datetime(2026, 12, 1, tzinfo=UTC), telegram_id=KEY.user_id)
    async with sessionmaker() as session:
        bound = storage.bound(session)
        assert await bound.read_with_user(KEY) is not None
        await bound.set_data(KEY, {"filters": 1})
        await write_pending(session)
        assert pool.checkedout() == (0 if alone else 1)  # type: ignore[attr-defined]
        await session.rollback()  # on SQLite nothing left to undo
    assert await storage.get_data(KEY) == ({"filters": 1} if alone else {})
    async with sessionmaker() as session:
        bound = storage.bound(session)
        user = await bound.read_with_user(KEY)
        assert user is not None
        user.first_name = "Другое"
        await bound.set_data(KEY, {"filters": 2})
        await write_pending(session)
        assert pool.checkedout() == 1  # type: ignore[attr-defined]
        await session.rollback()
    assert await storage.get_data(KEY) == ({"filters": 1} if alone else {})
    await engine.dispose()


async def test_the_sender_and_the_state_in_one_query(backend: Backend) -> None:
    """read_with_user: the account and the record in one statement, whichever exists; the record is then known."""
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    storage = SqlFsmStorage(sessionmaker)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with sessionmaker() as session, session.begin():
        registered = await make_user(Repo(session), now, telegram_id=KEY.user_id)
    stranger = StorageKey(bot_id=1, chat_id=43, user_id=43)  # no account (registering): the state still counts
    await storage.set_state(stranger, Wizard.step)
    await storage.set_data(stranger, {"step": 1})
    statements: list[str] = []  # through SQLAlchemy: db.direct's run through the driver once a transaction is open
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    async with sessionmaker() as session:
        bound = storage.bound(session)
        user = await bound.read_with_user(KEY)
        assert len(statements) <= 1  # PostgreSQL: SQLAlchemy begins the transaction with the first statement
        statements.clear()
        assert user is not None and user.id == registered.id and user.first_name == registered.first_name
        assert user in session and user.created_at == registered.created_at  # the session's own, as loaded
        assert await bound.read_with_user(KEY) is user
        assert await bound.get_state(KEY) is None and await bound.get_data(KEY) == {}
        assert await bound.read_with_user(stranger) is None
        assert await bound.get_state(stranger) == Wizard.step.state
        assert await bound.get_data(stranger) == {"step": 1}
        assert statements == []  # the records were known from read_with_user
        user.language = "ru"  # changed like any loaded object: flushed as an UPDATE
        await session.commit()
    assert [each.lstrip().split()[0].upper() for each in statements] == ["UPDATE"]
    async with sessionmaker() as session:
        assert (await Repo(session).users.by_id(registered.id)).language == "ru"  # type: ignore[union-attr]
    await engine.dispose()


async def test_an_update_writes_each_record_once_at_commit(backend: Backend) -> None:
    """A search saves its filters, then clears the state; a wizard step sets its data, then its state: one upsert,
    at commit. Emptied (`clear`), the record's row goes; a rollback writes nothing."""
    engine = create_engine(backend.database_url)
    sessionmaker = create_sessionmaker(engine)
    storage = SqlFsmStorage(sessionmaker)
    await storage.set_state(KEY, Wizard.step)
    writes: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda *args: writes.append(args[2]) if args[2].lstrip().upper().startswith(("INSERT", "DELETE")) else None,
    )
    async with sessionmaker() as session:
        bound = storage.bound(session)
        await bound.get_state(KEY)
        await bound.update_data(KEY, {"filters": {"text": "Кино"}})
        await bound.set_state(KEY, None)
        await bound.update_data(KEY, {"page": 2})
        assert writes == []  # nothing until the commit
        assert await bound.get_data(KEY) == {"filters": {"text": "Кино"}, "page": 2}
        await session.commit()
    assert len(writes) == 1
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {"filters": {"text": "Кино"}, "page": 2}

    async with sessionmaker() as session:  # rolled back: nothing written, nothing remembered
        bound = storage.bound(session)
        await bound.set_state(KEY, Wizard.step)
        await session.rollback()
        assert await bound.get_state(KEY) is None
    assert len(writes) == 1 and await storage.get_state(KEY) is None

    async with sessionmaker() as session:
        bound = storage.bound(session)
        await bound.set_state(KEY, Wizard.step)
        await FSMContext(bound, KEY).clear()
        await session.commit()
    assert len(writes) == 2 and writes[-1].lstrip().upper().startswith("DELETE")
    async with sessionmaker() as session:
        count = await session.execute(text("SELECT count(*) FROM fsm_states"))
        assert count.scalar() == 0
    await engine.dispose()
