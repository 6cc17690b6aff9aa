"""aiogram FSM storage in the database: a wizard survives a restart on the embedded default.

`SqlFsmStorage(sessionmaker)` reads and writes in short sessions of its own (outside updates). Inside an update the
session middleware hands the handler `storage.bound(session)`: the same storage over the update's own session, so
the state costs one SELECT (shared with the sender's account: `read_with_user`) and commits or rolls back with the
handler's writes; what it read is remembered in the session, so setting the state or the data it already has (a read
path clearing a state that is not there) writes nothing. Writes wait in the session until it commits: one statement
per record however many times an update changes it (a search saves its filters, then clears the state; a wizard step
sets its data, then its state), run by the commit itself (`before_commit`), and dropped by a rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import bindparam, delete, event, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from db.direct import Direct, adopt, written_alone
from db.engine import WROTE
from db.models import FsmRecord, User

Record = tuple[str | None, dict[str, Any]]
READ = "fsm_read"  # session.info: storage key -> the record as this session last saw it (None: no row)
PENDING = "fsm_pending"  # session.info: the storage keys whose record (in READ) the session still has to write
# One row whether or not either exists: the sender's account and the FSM record, each NULL when absent.
# The account's columns first (db.direct builds the User from them), then the record's.
_WITH_USER = Direct(
    select(*User.__table__.c, FsmRecord.key, FsmRecord.state, FsmRecord.data)
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

    async def _write(self, key: StorageKey, values: dict[str, Any]) -> None:
        """`values` (state, data or both) into the key's record, written when the session commits."""
        async with self._session() as session:
            name = self._keys.build(key)
            old: Record = await self._read(session, name) or (None, {})
            session.info[READ][name] = (values.get("state", old[0]), values.get("data", old[1]))
            session.info.setdefault(PENDING, set()).add(name)
            session.info[WROTE] = True

    async def _get(self, key: StorageKey) -> Record | None:
        if self._bound is not None:  # an update's (two or three reads each): without the context manager
            return await self._read(self._bound, self._keys.build(key))
        async with self._session() as session:
            return await self._read(session, self._keys.build(key))

    @staticmethod
    async def _read(session: AsyncSession, name: str) -> Record | None:
        """The record as `session` sees it: read once, then as the session last read or wrote it."""
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
        [row] = await _WITH_USER.rows(self._bound, params)
        *account, record_key, state, data = row
        self._bound.info.setdefault(READ, {})[name] = (state, dict(data or {})) if record_key is not None else None
        if account[0] is None:
            return None
        return adopt(self._bound, _WITH_USER.instance(User, account))  # the session's own, as if it had loaded it

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        seen = await self._get(key)
        if (seen is None and value is None) or (seen is not None and seen[0] == value):
            return
        await self._write(key, {"state": value})

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._get(key)
        return record[0] if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        seen = await self._get(key)
        if (seen is None and not data) or (seen is not None and seen[1] == data and (data or seen[0] is not None)):
            return  # already so; but an emptied record with no state still has its row deleted (_flush)
        await self._write(key, {"data": dict(data)})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._get(key)
        return dict(record[1]) if record else {}

    async def close(self) -> None:
        return None


def _pending(session: Session) -> list[tuple[bool, dict[str, Any]]]:
    """The records written in the session, taken from it: for each, whether it is upserted (a record with a state
    or data) or deleted (emptied by `state.clear()`: no state, no data, so the table holds live wizards only), and
    the statement's values; in key order."""
    names = session.info.pop(PENDING, None)
    if not names:
        return []
    seen: dict[str, Record | None] = session.info.get(READ, {})
    writes = []
    for name in sorted(names):
        record = seen.get(name)
        if record is None or (record[0] is None and not record[1]):
            writes.append((False, {"key": name}))
            seen[name] = None
        else:
            writes.append((True, {"key": name, "state": record[0], "data": record[1]}))
    return writes


async def write_pending(session: AsyncSession) -> None:
    """The records written in the session, one statement each, before its commit: through db.direct (~0.1 ms of
    CPU each on SQLite), where the commit's own hook (`_flush`) would run them through SQLAlchemy (~0.4 ms); on
    SQLite, when the session wrote nothing else, as a transaction of their own (db.direct.written_alone). The
    update's commits call this first; any other commit still writes them by the hook."""
    writes = _pending(session.sync_session)
    if not writes:
        return
    dialect = session.get_bind().dialect.name
    statements = [(_DIRECT_UPSERT[dialect] if upsert else _DIRECT_DELETE, values) for upsert, values in writes]
    if written_alone(session, statements):  # SQLite, nothing else written: committed already, on their own
        return
    for statement, values in statements:
        await statement.write(session, values)


@event.listens_for(Session, "before_commit")
def _flush(session: Session) -> None:
    """The records still waiting when the session commits (`_pending`), one statement each: Core statements built
    once (`_UPSERT`, `_DELETE`) on the session's connection (an ORM-enabled `session.execute` of a statement built
    for each record cost ~0.5 ms of CPU for a one-row write)."""
    writes = _pending(session)
    if not writes:
        return
    connection = session.connection()
    for upsert, values in writes:
        connection.execute(_UPSERT[connection.dialect.name] if upsert else _DELETE, values)


_TABLE = FsmRecord.metadata.tables[FsmRecord.__tablename__]


def _upsert(insert: Any) -> Any:
    """The record's upsert in a dialect's INSERT ... ON CONFLICT (`key`, `state` and `data` bound)."""
    columns = _TABLE.c
    statement = insert(_TABLE).values(
        key=bindparam("key", type_=columns.key.type),
        state=bindparam("state", type_=columns.state.type),
        data=bindparam("data", type_=columns.data.type),
    )
    return statement.on_conflict_do_update(
        index_elements=["key"], set_={"state": statement.excluded.state, "data": statement.excluded.data}
    )


_UPSERT = {"sqlite": _upsert(sqlite_insert), "postgresql": _upsert(pg_insert)}
_DELETE = delete(_TABLE).where(_TABLE.c.key == bindparam("key", type_=_TABLE.c.key.type))
# The same through db.direct, RETURNING the key: a statement with rows, whichever way Direct runs it.
_DIRECT_UPSERT = {dialect: Direct(upsert.returning(_TABLE.c.key)) for dialect, upsert in _UPSERT.items()}
_DIRECT_DELETE = Direct(_DELETE.returning(_TABLE.c.key))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """A rollback drops the writes still waiting, and what the session saw may have changed since."""
    session.info.pop(PENDING, None)
    session.info.pop(READ, None)
