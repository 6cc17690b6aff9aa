"""aiogram FSM storage in the database: a wizard survives a restart on the embedded default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import Row, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import FsmRecord
from db.session_context import current_session


class SqlFsmStorage(BaseStorage):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None):
        self._sessionmaker = sessionmaker
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """Inside an update: its session (committed by the session middleware). Outside: a short one."""
        shared = current_session.get()
        if shared is not None:
            yield shared
            return
        async with self._sessionmaker() as session, session.begin():
            yield session

    async def _upsert(self, key: StorageKey, values: dict[str, Any]) -> None:
        async with self._session() as session:
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            row = {"key": self._keys.build(key), "state": None, "data": {}} | values
            stmt = insert(FsmRecord).values(**row)
            await session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=values))

    async def _get(self, key: StorageKey) -> Row[tuple[str | None, dict[str, Any]]] | None:
        async with self._session() as session:
            query = select(FsmRecord.state, FsmRecord.data).where(FsmRecord.key == self._keys.build(key))
            return (await session.execute(query)).one_or_none()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, {"state": value})

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._get(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not data:  # `state.clear()` sets no state, then no data: the row goes, so the table holds live wizards only
            async with self._session() as session:
                gone = await session.execute(
                    delete(FsmRecord).where(FsmRecord.key == self._keys.build(key), FsmRecord.state.is_(None))
                )
            if gone.rowcount:
                return
        await self._upsert(key, {"data": dict(data)})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._get(key)
        return dict(record.data) if record and record.data else {}

    async def close(self) -> None:
        return None
