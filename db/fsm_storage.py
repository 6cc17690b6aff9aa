"""aiogram FSM storage in the database: a wizard survives a restart on the embedded default.

`SqlFsmStorage(sessionmaker)` reads and writes in short sessions of its own (outside updates). Inside an update the
session middleware hands the handler `storage.bound(session)`: the same storage over the update's own session, so
the state costs one SELECT (shared with the sender's account: `read_with_user`) and commits or rolls back with the
handler's writes; what it read is remembered in the session, so setting the state or the data it already has (a read
path clearing a state that is not there) writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import bindparam, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import rowcount
from db.models import FsmRecord, User

Record = tuple[str | None, dict[str, Any]]
READ = "fsm_read"  # session.info: storage key -> the record as this session last saw it (None: no row)
# One row whether or not either exists: the sender's account and the FSM record, each NULL when absent.
_WITH_USER = (
    select(User, FsmRecord.key, FsmRecord.state, FsmRecord.data)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(User, User.telegram_id == bindparam("telegram_id"))
    .outerjoin(FsmRecord, FsmRecord.key == bindparam("key"))
)


class SqlFsmStorage(BaseStorage):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
        *,
        session: AsyncSession | None = None,
    ):
        self._sessionmaker = sessionmaker
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._bound = session

    def bound(self, session: AsyncSession) -> SqlFsmStorage:
        """This storage over `session` (an update's): its reads and writes are that session's, committed or rolled
        back by whoever owns it."""
        return SqlFsmStorage(self._sessionmaker, self._keys, session=session)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """The bound session (committed by its owner), or a short one of its own."""
        if self._bound is not None:
            yield self._bound
            return
        async with self._sessionmaker() as session, session.begin():
            yield session

    async def _upsert(self, key: StorageKey, values: dict[str, Any]) -> None:
        async with self._session() as session:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            row = {"key": self._keys.build(key), "state": None, "data": {}} | values
            stmt = insert(FsmRecord).values(**row)
            await session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=values))
            seen: dict[str, Record | None] = session.info.setdefault(READ, {})
            old: Record = seen.get(row["key"]) or (None, {})
            seen[row["key"]] = (values.get("state", old[0]), values.get("data", old[1]))

    async def _get(self, key: StorageKey) -> Record | None:
        async with self._session() as session:
            name = self._keys.build(key)
            seen: dict[str, Record | None] = session.info.setdefault(READ, {})
            if name not in seen:
                query = select(FsmRecord.state, FsmRecord.data).where(FsmRecord.key == name)
                row = (await session.execute(query)).one_or_none()
                seen[name] = (row.state, dict(row.data or {})) if row else None
            return seen[name]

    async def read_with_user(self, key: StorageKey) -> User | None:
        """Bound to an update's session: `key`'s record (then remembered as read: the state and data cost no
        further query) and the account of its user (`key.user_id`, a Telegram id), or None, in one round trip."""
        assert self._bound is not None
        name = self._keys.build(key)
        params = {"telegram_id": key.user_id, "key": name}
        row = (await self._bound.execute(_WITH_USER, params)).one()
        self._bound.info.setdefault(READ, {})[name] = (row.state, dict(row.data or {})) if row.key is not None else None
        user: User | None = row.User
        return user

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        seen = await self._seen(key)
        if (seen is None and value is None) or (isinstance(seen, tuple) and seen[0] == value):
            return
        await self._upsert(key, {"state": value})

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._get(key)
        return record[0] if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        seen = await self._seen(key)
        if (seen is None and not data) or (
            isinstance(seen, tuple) and seen[1] == data and (data or seen[0] is not None)
        ):
            return  # already so; but an emptied record with no state still has its row deleted below
        if not data:  # `state.clear()` sets no state, then no data: the row goes, so the table holds live wizards only
            async with self._session() as session:
                name = self._keys.build(key)
                gone = await session.execute(delete(FsmRecord).where(FsmRecord.key == name, FsmRecord.state.is_(None)))
                if rowcount(gone):
                    session.info.setdefault(READ, {})[name] = None
                    return
        await self._upsert(key, {"data": dict(data)})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._get(key)
        return dict(record[1]) if record else {}

    async def _seen(self, key: StorageKey) -> Record | bool | None:
        """Bound to a session: the record it holds (None: no row); unbound: False (read nothing)."""
        return await self._get(key) if self._bound is not None else False

    async def close(self) -> None:
        return None
