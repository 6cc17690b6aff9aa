from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repo import Repo
from db.session_context import current_session


class DbSessionMiddleware(BaseMiddleware):
    """One session per update: committed when the handler succeeds, rolled back when it raises (back to the last
    time the bot spoke: see CommitBeforeSpeaking)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.sessionmaker() as session:
            token = current_session.set(session)
            try:
                data["repo"] = Repo(session)
                result = await handler(event, data)
                await session.commit()
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
            await session.commit()
        return await make_request(bot, method)
