"""The update's database session: opened before its FSM state is read, committed once, and only after a write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from db.engine import WROTE
from db.fsm_storage import SqlFsmStorage, write_pending
from db.repo import Repo

# The session whose work is committed before the bot speaks (see CommitBeforeSpeaking): the update's.
# A Bot API middleware is called with the bot and the method only, so this is the one thing handed over by context.
_speaking: ContextVar[AsyncSession | None] = ContextVar("speaking", default=None)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    session.info[WROTE] = True


async def commit_if_written(session: AsyncSession) -> None:
    if session.info.get(WROTE):
        await write_pending(session)
        await session.commit()
        session.info.pop(WROTE, None)


@contextmanager
def commits_before_speaking(session: AsyncSession) -> Iterator[None]:
    """Within the block, whatever `session` did is committed before each Bot API call (CommitBeforeSpeaking)."""
    token = _speaking.set(session)
    try:
        yield
    finally:
        _speaking.reset(token)


def in_update() -> bool:
    """Whether the running task handles an update (rather than the outbox's or the notifier's own sending)."""
    return _speaking.get() is not None


class DbSessionMiddleware(BaseMiddleware):
    """Outer update middleware, in place of aiogram's FSM middleware when the state is in the database: one person's
    updates one after another (the dispatcher's events isolation, taken here so that the lock spans the commit: a
    quick next message sees what the previous one did), one session per update, and the update's FSM context over
    that session (`state`, `raw_state`: the SQL storage bound to it, so the state is read and written in the update's
    transaction, no second session; read in one query with the sender's account, `user`). Committed when the
    handler succeeds and wrote something (a read-only update issues no COMMIT), rolled back when it raises (back to
    the last time the bot spoke: see CommitBeforeSpeaking). With another storage (Redis, memory) aiogram's FSM
    middleware runs after this one and reads the state itself."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        fsm: FSMContextMiddleware | None = None,
        isolation: BaseEventIsolation | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.fsm = fsm
        self.isolation = isolation

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        context = self.fsm.resolve_event_context(data["bot"], data) if self.fsm else None
        lock: AbstractAsyncContextManager[Any] = (
            self.isolation.lock(context.key) if context and self.isolation else nullcontext()
        )
        async with lock:
            session = self.sessionmaker()
            try:
                with commits_before_speaking(session):
                    data["repo"] = Repo(session)
                    if self.fsm and isinstance(self.fsm.storage, SqlFsmStorage):
                        storage = data["fsm_storage"] = self.fsm.storage.bound(session)
                        if context is not None:
                            sender = data.get("event_from_user")
                            if sender is not None and sender.id == context.key.user_id:  # for CurrentUserMiddleware
                                data["user"] = await storage.read_with_user(context.key)
                            state = data["state"] = FSMContext(storage, context.key)
                            data["raw_state"] = await state.get_state()
                    result = await handler(event, data)
                await commit_if_written(session)
                return result
            except BaseException:
                await session.rollback()
                raise
            finally:
                await close(session)


async def close(session: AsyncSession) -> None:
    """What `async with session` does on the way out, without its task when there is nothing to give back.
    AsyncSession's exit runs `close()` in a task of its own (so that a cancellation cannot cut it short) and a
    greenlet: ~35 us, for an update whose transaction usually ended when the bot spoke. With no transaction left,
    closing only lets go of the session's objects, at once; with one, the session closes as `async with` closes it."""
    if session.in_transaction():
        async with session:  # the transaction's connection back to the pool, even if cancelled meanwhile
            return
    session.expunge_all()


class CommitBeforeSpeaking(BaseRequestMiddleware):
    """Bot API middleware: inside an update (`commits_before_speaking`), whatever its session wrote is
    committed before the bot calls Telegram. What the bot tells people is already durable, so whoever acts on a
    message (the same person, someone else, a test reading the database) sees what it announced; and the connection
    goes back to the pool while the request is in flight (with SQLite there is one)."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        session = _speaking.get()
        if session is not None and session.in_transaction():
            await write_pending(session)
            await session.commit()  # also a read-only transaction: the connection goes back (rollback would expire)
            session.info.pop(WROTE, None)
        return await make_request(bot, method)
