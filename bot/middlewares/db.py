"""The update's database session: opened before its FSM state is read, committed once, and only after a write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from db.repo import Repo
from db.session_context import current_session

WROTE = "wrote"  # session.info flag: something was written since the last commit


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    session.info[WROTE] = True


async def commit_if_written(session: AsyncSession) -> None:
    if session.info.pop(WROTE, False):
        await session.commit()


class DbSessionMiddleware(BaseMiddleware):
    """Outer update middleware, before aiogram's FSM middleware: one person's updates one after another (the
    dispatcher's events isolation, taken here so that the lock spans the commit: a quick next message sees what the
    previous one did), one session per update, bound to the context so that the SQL FSM storage reads the state
    through it (no second session, no second transaction). Committed when the handler succeeds and wrote something
    (a read-only update issues no COMMIT), rolled back when it raises (back to the last time the bot spoke: see
    CommitBeforeSpeaking)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        fsm: FSMContextMiddleware | None = None,
        isolation: BaseEventIsolation | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.fsm = fsm
        self.isolation = isolation

    def _lock(self, data: dict[str, Any]) -> AbstractAsyncContextManager[Any]:
        context = self.fsm.resolve_event_context(data["bot"], data) if self.fsm and self.isolation else None
        return self.isolation.lock(context.key) if context and self.isolation else nullcontext()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self._lock(data), self.sessionmaker() as session:
            token = current_session.set(session)
            try:
                data["repo"] = Repo(session)
                result = await handler(event, data)
                await commit_if_written(session)
                return result
            except BaseException:
                await session.rollback()
                raise
            finally:
                current_session.reset(token)


class CommitBeforeSpeaking(BaseRequestMiddleware):
    """Bot API middleware: inside an update, whatever the handler wrote is committed before the bot calls Telegram.
    What the bot tells people is already durable, so whoever acts on a message (the same person, someone else, a
    test reading the database) sees what it announced; and the connection goes back to the pool while the request
    is in flight (with SQLite there is one)."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        session = current_session.get()
        if session is not None and session.in_transaction():
            await session.commit()  # also a read-only transaction: the connection goes back (rollback would expire)
            session.info.pop(WROTE, None)
        return await make_request(bot, method)
