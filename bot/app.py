"""The running bot: everything built from settings, then long polling until stopped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands import set_commands
from bot.factory import create_bot, create_dispatcher, create_fsm_storage
from bot.notifier import Notifier
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade_to_head
from db.repo import Repo
from db.session_context import current_session
from services.clock import Clock

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    clock: Clock
    notifier: Notifier

    async def close(self) -> None:
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()


async def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    clock = clock or Clock()
    engine = create_engine(settings.database_url)
    await upgrade_to_head(engine)
    sessionmaker = create_sessionmaker(engine)
    bot = create_bot(settings)

    async def mark_blocked(telegram_id: int) -> None:
        session = current_session.get()  # inside an update: its own transaction (one SQLite connection)
        if session is not None:
            await Repo(session).users.mark_blocked_bot(telegram_id)
            return
        async with sessionmaker() as session, session.begin():
            await Repo(session).users.mark_blocked_bot(telegram_id)

    notifier = Notifier(bot, on_blocked=mark_blocked)
    dispatcher = create_dispatcher(
        settings=settings,
        sessionmaker=sessionmaker,
        storage=create_fsm_storage(settings, sessionmaker),
        clock=clock,
        notifier=notifier,
    )
    return App(settings, engine, sessionmaker, bot, dispatcher, clock, notifier)


async def serve(app: App, *, handle_signals: bool = True) -> None:
    """Long polling until a signal or `app.dispatcher.stop_polling()`; closes the app afterwards."""
    try:
        await set_commands(app.bot)
        me = await app.bot.get_me()
        log.info("Serving as @%s", me.username)
        await app.dispatcher.start_polling(
            app.bot,
            polling_timeout=app.settings.polling_timeout,
            handle_signals=handle_signals,
            close_bot_session=False,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
    finally:
        await app.close()
