"""The running bot: everything built from settings, then long polling until stopped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands import admin_languages, set_commands
from bot.factory import create_bot, create_dispatcher, create_fsm_storage
from bot.notifier import Notifier
from bot.scheduler import Sweeper, SweepScheduler
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade_to_head
from db.repo import Repo
from db.session_context import current_session
from services.cities import load_directory
from services.clock import Clock
from services.crypto import Secrets, load_secrets
from services.payouts import ManualPayoutGateway
from services.storage import LocalPhotoStorage, PhotoStorage, S3PhotoStorage

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
    secrets: Secrets
    photo_storage: PhotoStorage
    scheduler: SweepScheduler

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value else None


def create_photo_storage(settings: Settings, secrets: Secrets) -> PhotoStorage:
    if settings.s3_bucket:
        return S3PhotoStorage.connect(
            bucket=settings.s3_bucket,
            secrets=secrets,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key=_secret(settings.s3_access_key),
            secret_key=_secret(settings.s3_secret_key),
        )
    return LocalPhotoStorage(settings.photo_dir, secrets)


async def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    clock = clock or Clock()
    secrets = load_secrets(_secret(settings.encryption_key), _secret(settings.fingerprint_key), settings.data_dir)
    photo_storage = create_photo_storage(settings, secrets)
    engine = create_engine(settings.database_url)
    await upgrade_to_head(engine)
    await load_directory()  # before the first update, off the event loop
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
        secrets=secrets,
        photo_storage=photo_storage,
        payout_gateway=ManualPayoutGateway(),
    )
    scheduler = SweepScheduler(Sweeper(sessionmaker, clock, notifier), settings.sweep_interval_seconds)
    return App(settings, engine, sessionmaker, bot, dispatcher, clock, notifier, secrets, photo_storage, scheduler)


async def serve(app: App, *, handle_signals: bool = True) -> None:
    """Long polling until a signal or `app.dispatcher.stop_polling()`; closes the app afterwards."""
    try:
        await set_commands(app.bot, await admin_languages(app.sessionmaker, app.settings.admin_ids))
        me = await app.bot.get_me()
        log.info("Serving as @%s", me.username)
        app.scheduler.start()
        await app.dispatcher.start_polling(
            app.bot,
            polling_timeout=app.settings.polling_timeout,
            handle_signals=handle_signals,
            close_bot_session=False,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
    finally:
        await app.close()
