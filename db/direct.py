"""Hot read statements compiled once per dialect and run on the session's connection through the driver itself.

`session.execute` of a statement SQLAlchemy has cached still costs ~0.15 ms of CPU on SQLite (the statement's cache
key, the compiled-cache lookup, an execution context, the result's metadata, the ORM's loading) and ~0.3 ms on
PostgreSQL, for statements SQLite answers in 0.03 ms. `Direct(statement)` compiles its Core statement once for each
dialect (and each length of its expanding IN lists), with the bind parameters' and result columns' type processors
looked up once; `rows` binds the values in order and runs the SQL on the session's own connection and transaction
(found once per transaction, then kept in `session.info` with it): sqlite3 through aiosqlite (which begins the
transaction of a write by itself, as it does under SQLAlchemy), asyncpg's prepared statement (cached by asyncpg)
once SQLAlchemy has begun the transaction, SQLAlchemy's `exec_driver_sql` before that. On SQLite a SELECT of a
session that has taken no connection yet runs on the engine's one connection without taking it from the pool, while
nobody's writes are pending on it (`_free`): the update that only reads takes no connection and commits nothing.
SQLAlchemy's events do not see these statements; a driver error is the driver's own (sqlite3's, asyncpg's), not
wrapped in `sqlalchemy.exc`. Made for reads; a write through the session notes itself for the update's commit, so a
hot INSERT or UPDATE (no expanding IN lists; RETURNING for its rows) goes through `write`, which notes it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, event, inspect
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, SessionTransaction
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.instrumentation import ClassManager
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter

from db.engine import WROTE, idle_connection, own_transaction

T = TypeVar("T")
_HELD = "direct_held"  # session.info: (the root transaction, its connection, the driver's connection): _held
_BEGUN = "direct_begun"  # session.info: the last root transaction that took a connection: _connected
_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Arg:
    """Where a positional parameter's value comes from: a named parameter (an item of it when `item` is set: an
    expanded IN list), or a value fixed in the statement (`name` None)."""

    name: str | None
    item: int | None
    value: Any
    process: _Processor

    def __call__(self, params: Mapping[str, Any]) -> Any:
        if self.name is None:
            value = self.value
        elif self.item is None:
            value = params[self.name]
        else:
            value = params[self.name][self.item]
        return self.process(value) if self.process is not None and value is not None else value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    args: tuple[_Arg, ...]
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # the result columns with a type processor, by index


class Direct:
    """A SELECT (or a hot INSERT or UPDATE: `write`) compiled once per dialect and run through the driver on the
    session's connection (module docs)."""

    def __init__(self, statement: Select[*tuple[Any, ...]] | UpdateBase) -> None:
        self.statement = statement
        binds = [b for b in visitors.iterate(statement) if isinstance(b, BindParameter)]
        self._named = {b.key: b for b in binds if not b.key.startswith("%(")}  # the caller binds these by name
        self._expanding = sorted(key for key, b in self._named.items() if b.expanding)
        self._compiled: dict[tuple[str, tuple[int, ...]], _Compiled] = {}
        self._shapes: dict[type[Any], _Shape] = {}  # instance(): how each entity is built from the rows
        self._reads = isinstance(statement, Select)

    def _compile(self, dialect: Dialect, lengths: tuple[int, ...]) -> _Compiled:
        sized = dict(zip(self._expanding, lengths, strict=True))
        placeholders = {key: [None] * sized[key] if key in sized else None for key in self._named}
        statement = self.statement.params(placeholders) if isinstance(self.statement, Select) else self.statement
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert compiled.positiontup is not None  # both dialects' drivers take positional parameters

        def processor(bind: BindParameter[Any]) -> _Processor:
            return bind.type.dialect_impl(dialect).bind_processor(dialect)

        args = []
        for name in compiled.positiontup:
            bind = compiled.binds.get(name)
            if name in self._named and not self._named[name].expanding:
                args.append(_Arg(name, None, None, processor(self._named[name])))
            elif bind is not None and not bind.expanding:  # a literal of the statement's own
                args.append(_Arg(None, None, bind.value, processor(bind)))
            else:  # an item of an expanded IN list: "<name>_<n>", n from 1
                key, number = name.rsplit("_", 1)
                args.append(_Arg(key, int(number) - 1, None, processor(self._named[key])))
        results = (
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.exported_columns
        )
        processed = tuple((index, process) for index, process in enumerate(results) if process is not None)
        return _Compiled(compiled.string, tuple(args), processed)

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows for `params` (a list for each expanding parameter), each value as SQLAlchemy would
        give it (enums, aware datetimes, JSON), in the session's transaction; a SELECT of a session that has begun
        none, on SQLite, outside any (`_free`)."""
        free = _free(session) if self._reads else None
        if free is not None:
            engine, sqlite = free
            compiled, args = self._bound(engine.dialect, params)
            return self._processed(compiled, sqlite.execute(compiled.sql, args))
        connection, driver = await _held(session)
        dialect = connection.dialect
        compiled, args = self._bound(dialect, params)
        raw: Iterable[Sequence[Any]]
        if dialect.name == "sqlite":
            raw = await driver.execute_fetchall(compiled.sql, args)
        elif driver.is_in_transaction():
            raw = await driver.fetch(compiled.sql, *args)
        else:  # SQLAlchemy's adapter begins the transaction on its first statement
            raw = await session.run_sync(lambda _: connection.exec_driver_sql(compiled.sql, tuple(args)).all())
        return self._processed(compiled, raw)

    def _bound(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[_Compiled, list[Any]]:
        """The statement compiled for `dialect` and the lengths of `params`' lists, and its positional values."""
        lengths = tuple(len(params[key]) for key in self._expanding)
        compiled = self._compiled.get((dialect.name, lengths))
        if compiled is None:
            compiled = self._compiled[dialect.name, lengths] = self._compile(dialect, lengths)
        return compiled, [arg(params) for arg in compiled.args]

    @staticmethod
    def _processed(compiled: _Compiled, raw: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        processed = compiled.processed
        if not processed:
            return [tuple(row) for row in raw]
        rows = []
        for row in raw:
            values = list(row)
            for index, process in processed:
                value = values[index]
                if value is not None:
                    values[index] = process(value)
            rows.append(tuple(values))
        return rows

    async def write(self, session: AsyncSession, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """An INSERT or UPDATE run as `rows` runs a read (its RETURNING rows), noted for the update's commit."""
        rows = await self.rows(session, params)
        session.info[WROTE] = True
        return rows

    async def objects(self, session: AsyncSession, entity: type[T], params: Mapping[str, Any]) -> list[T]:
        """The rows of a `select(entity)` as detached instances of the mapped class (not in the session: read
        alone, changed nowhere; nothing loads lazily)."""
        return [self.instance(entity, row) for row in await self.rows(session, params)]

    async def loaded(self, session: AsyncSession, entity: type[T], params: Mapping[str, Any]) -> list[T]:
        """The rows of a `select(entity)` as the session's own objects, as its query would give them (`adopt`)."""
        return [adopt(session, self.instance(entity, row)) for row in await self.rows(session, params)]

    def instance(self, entity: type[T], values: Sequence[Any]) -> T:
        """A detached instance of `entity` from the first of the statement's columns (its own, in order), as if
        loaded and then expunged: `session.add` makes it the session's (persistent, no INSERT, its changes then
        flushed as updates)."""
        shape = self._shapes.get(entity)
        if shape is None:
            shape = self._shapes[entity] = _Shape.of(entity, self.statement)
        instance: T = shape.manager.new_instance()
        state = instance_state(instance)
        state.dict.update(zip(shape.keys, values[: len(shape.keys)], strict=True))
        # What make_transient_to_detached does to a fresh instance, with what it looks up each time found once:
        # keyed by its primary key, the attributes not read (its relationships) expired.
        state.key = (shape.identity, tuple(values[index] for index in shape.primary), None)
        state._expire_attributes(state.dict, shape.unloaded)
        return instance


_UNLOADED = object()  # loaded_columns: in place of a column not loaded
_COLUMN_KEYS: dict[type, tuple[str, ...]] = {}  # loaded_columns: a mapped class's columns, in its mapper's order


def loaded_columns(instance: object) -> tuple[object, ...]:
    """The values `instance` holds of its mapped class's columns, in the mapper's order (one not loaded: a marker
    equal only to itself): two reads of a row compare equal when they show the same."""
    keys = _COLUMN_KEYS.get(type(instance))
    if keys is None:
        mapper: Mapper[Any] = inspect(type(instance))
        keys = _COLUMN_KEYS[type(instance)] = tuple(attribute.key for attribute in mapper.column_attrs)
    loaded = instance_state(instance).dict
    return tuple(loaded.get(key, _UNLOADED) for key in keys)


@dataclass(frozen=True)
class _Shape:
    """How Direct.instance builds an `entity` from a statement's first columns: the attribute of each, where its
    primary key is among them, the attributes they leave unloaded."""

    manager: ClassManager[Any]
    keys: tuple[str, ...]
    identity: type[Any]
    primary: tuple[int, ...]
    unloaded: frozenset[str]

    @classmethod
    def of(cls, entity: type[Any], statement: Select[*tuple[Any, ...]] | UpdateBase) -> _Shape:
        mapper = inspect(entity)
        columns = statement.exported_columns[: len(mapper.columns)]
        keys = tuple(mapper.get_property_by_column(column).key for column in columns)
        primary = tuple(keys.index(mapper.get_property_by_column(column).key) for column in mapper.primary_key)
        unloaded = frozenset(mapper.class_manager).difference(keys)
        return cls(mapper.class_manager, keys, mapper._identity_class, primary, unloaded)


async def _held(session: AsyncSession) -> tuple[Connection, Any]:
    """The session's connection in its transaction (begun when there is none) and the driver's connection under
    it: looked up once per transaction (through SQLAlchemy: two greenlet hand-offs) and then kept with it."""
    held = session.info.get(_HELD)
    if held is not None and held[0] is session.sync_session.get_transaction():
        return held[1], held[2]
    connection, driver = await session.run_sync(_connection)
    assert driver is not None  # the session's connection is open
    session.info[_HELD] = (session.sync_session.get_transaction(), connection, driver)
    return connection, driver


def _connected(session: AsyncSession) -> bool:
    """Whether the session's transaction holds a connection (has run a statement). A transaction of the session's
    begins without one as soon as an object is added to it (`adopt`)."""
    root = session.sync_session.get_transaction()
    return root is not None and session.info.get(_BEGUN) is root


@event.listens_for(Session, "after_begin")
def _begun(session: Session, _transaction: SessionTransaction, _connection: Connection) -> None:
    session.info[_BEGUN] = session.get_transaction()


def _free(session: AsyncSession) -> tuple[Engine, sqlite3.Connection] | None:
    """SQLite, a session that has begun no transaction: its engine and the engine's one connection while no
    transaction is open on it (db.engine.idle_connection). A read there sees what it would see in a transaction of
    the session's own, which on SQLite is none until the first write, without taking the connection from the pool
    (a checkout and a commit for a read-only update: ~0.1 ms of CPU, and more with cold caches)."""
    if _connected(session):
        return None
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    sqlite = idle_connection(engine)
    return (engine, sqlite) if sqlite is not None else None


def written_alone(session: AsyncSession, writes: Sequence[tuple[Direct, Mapping[str, Any]]]) -> bool:
    """SQLite, a session that holds no connection and has nothing to flush (so nothing of its own to commit):
    `writes` (each a Direct INSERT, UPDATE or DELETE and its values) run as a transaction of their own on the
    engine's connection and committed at once, and True: what committing them in the session would do, without
    taking the connection from the pool (~0.2 ms for the wizard step or filter that writes only its FSM record).
    False, nothing done, otherwise: the caller writes them in the session."""
    if session.new or session.dirty or session.deleted:
        return False
    free = _free(session)
    if free is None:
        return False
    engine, sqlite = free
    with own_transaction(engine, sqlite):
        for direct, params in writes:
            compiled, args = direct._bound(engine.dialect, params)
            sqlite.execute(compiled.sql, args).fetchall()  # stepped to the end: RETURNING's rows read
    return True


async def has_written(session: AsyncSession) -> bool | None:
    """Whether the session's transaction has written anything, flushed or not: on SQLite the driver begins the
    transaction at its first write (a read alone runs in none). None on PostgreSQL, where only the server knows
    (`pg_current_xact_id_if_assigned()`: a statement asks it). A session that has begun no transaction has written
    nothing."""
    if session.new or session.dirty or session.deleted:
        return True
    if not _connected(session):
        return False
    connection, driver = await _held(session)
    return bool(driver.in_transaction) if connection.dialect.name == "sqlite" else None


def _connection(session: Session) -> tuple[Connection, Any]:
    connection = session.connection()
    return connection, connection.connection.driver_connection


def adopt(session: AsyncSession, instance: T) -> T:
    """A detached `instance` (Direct.instance) made the session's own, as if the session had loaded it: the object
    the session already holds for its identity, or else `instance`, added (persistent: no INSERT; its changes are
    flushed as updates)."""
    identity = inspect(instance).key
    assert identity is not None  # detached: keyed by its primary key
    known: T | None = session.sync_session.identity_map.get(identity)
    if known is not None:
        return known
    session.add(instance)
    return instance
