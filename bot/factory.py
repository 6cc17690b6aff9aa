"""Bot and Dispatcher factories: every long-lived object reaches handlers through the Dispatcher."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import LocaleMiddleware, i18n
from bot.middlewares.access import AccessMiddleware
from bot.middlewares.db import CommitBeforeSpeaking, DbSessionMiddleware
from bot.middlewares.hiccups import HiccupsRetried
from bot.middlewares.response_models import KeepResponseModels
from bot.middlewares.throttling import Limiter, MemoryLimiter, RedisLimiter, ThrottlingMiddleware
from bot.middlewares.user import CurrentUserMiddleware
from bot.routing import RoutedDispatcher, skip_routers
from bot.rules import rules_of
from bot.settings import Settings
from db.fsm_storage import SqlFsmStorage
from handlers import feature_routers
from services.cities import get_directory

if TYPE_CHECKING:
    from aiogram.fsm.storage.redis import RedisStorage


class ApiSession(AiohttpSession):
    """aiogram's aiohttp session, whose close waits 250 ms for TLS connections to shut down (aiohttp's graceful
    shutdown) only when the Bot API is reached over HTTPS: over plain HTTP (a local Bot API server, the emulator)
    there is none to wait for, and each stop and restart is a quarter of a second quicker."""

    async def close(self) -> None:
        if self.api.base.startswith("https://"):
            await super().close()
        elif self._session is not None and not self._session.closed:
            await self._session.close()


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """The bot over `session` (aiohttp to Telegram or to TELEGRAM_API_URL by default; the handler tests' mock)."""
    if session is None:
        session = (
            ApiSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
            if settings.telegram_api_url
            else ApiSession()
        )
    session.middleware(CommitBeforeSpeaking())
    session.middleware(HiccupsRetried())
    session.middleware(KeepResponseModels())
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )


def create_fsm_storage(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> BaseStorage:
    """Redis when REDIS_URL is set (several bot instances); otherwise the database (embedded default)."""
    if settings.redis_url:
        from bot.isolation import PersonRedisStorage  # redis (~6 MiB) only where it is used

        return PersonRedisStorage.from_url(settings.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True))
    return SqlFsmStorage(sessionmaker)


def redis_storage(storage: BaseStorage) -> RedisStorage | None:
    """The FSM storage when it is aiogram's RedisStorage, else None. Asked without importing redis: a RedisStorage
    exists only once its module was imported."""
    module = sys.modules.get("aiogram.fsm.storage.redis")
    kind: type[RedisStorage] | None = getattr(module, "RedisStorage", None)
    return storage if kind is not None and isinstance(storage, kind) else None


def create_isolation(storage: BaseStorage) -> BaseEventIsolation:
    """In Redis beside the FSM state when that is in Redis (several instances); otherwise in the process."""
    if (shared := redis_storage(storage)) is not None:
        from bot.isolation import SharedIsolation

        return SharedIsolation(shared.redis, shared.key_builder)
    return SimpleEventIsolation()


def create_limiter(settings: Settings, storage: BaseStorage) -> Limiter:
    """Shared in Redis (the FSM storage's connection) when REDIS_URL is set; otherwise in the process."""
    if (shared := redis_storage(storage)) is not None:
        return RedisLimiter(shared.redis, settings.throttle_rate, settings.throttle_burst)
    return MemoryLimiter(settings.throttle_rate, settings.throttle_burst)


def create_dispatcher(
    *, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], storage: BaseStorage, **deps: Any
) -> Dispatcher:
    # One person's updates one after another, the FSM state read inside the lock: a handler answers before its
    # transaction commits, and a quick next message must see what the previous one did.
    # The session middleware takes that lock and opens the session before the state is read: the SQL storage's
    # state it reads itself through the update's session; aiogram's FSM middleware (registered by hand: disable_fsm)
    # reads any other storage's after it.
    isolation = create_isolation(storage)
    dispatcher = RoutedDispatcher(
        storage=storage,
        disable_fsm=True,
        settings=settings,
        sessionmaker=sessionmaker,
        **rules_of(settings),
        **deps,
    )
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessionmaker, dispatcher.fsm, isolation))
    if not isinstance(storage, SqlFsmStorage):  # the session middleware hands out the SQL storage's state itself
        dispatcher.update.outer_middleware(dispatcher.fsm)
    dispatcher.update.outer_middleware(CurrentUserMiddleware())
    LocaleMiddleware(i18n).setup(dispatcher)
    throttling = ThrottlingMiddleware(create_limiter(settings, storage))
    dispatcher.message.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(throttling)
    access = AccessMiddleware()
    dispatcher.message.middleware(access)
    dispatcher.callback_query.middleware(access)
    get_directory()  # the city directory is loaded before the first update, not by it
    dispatcher.include_routers(*feature_routers())  # fresh routers: a process may build several dispatchers
    skip_routers(dispatcher)  # before run_filters_in_place: it reads the handlers' filters as registered
    run_filters_in_place(dispatcher)
    return dispatcher


def run_filters_in_place(router: Router) -> None:
    """aiogram calls a filter that is a plain function (every magic filter: `F.text`, `F.action == ...`) through
    `asyncio.to_thread`, a hand-off to a worker thread and back for an attribute check, a dozen times per update.
    Each such filter of `router` and the routers under it becomes a coroutine that calls it on the loop."""
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in (observer._handler, *observer.handlers):  # _handler: the observer's own filters
                for event_filter in handler.filters or ():
                    if not event_filter.awaitable:
                        event_filter.callback = _in_place(event_filter.callback)
                        event_filter.awaitable = True


def _in_place(callback: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return call
