"""The running bot: everything built from settings, then updates taken in (polling or a webhook) until stopped."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot, Dispatcher
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands import admin_languages, set_commands
from bot.factory import create_bot, create_dispatcher, create_fsm_storage, redis_storage
from bot.lazy_types import prebuild
from bot.metrics import render as render_metrics
from bot.notifier import Notifier, SharedRate
from bot.rules import payment_rules, waitlist_rules
from bot.runners.polling import PollingRunner
from bot.runners.webhook import WebhookRunner
from bot.scheduler import Sweeper, SweepScheduler
from bot.settings import Settings
from bot.workers.outbox import OutboxWorker
from bot.workers.reconciler import ReconcileJob
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade_to_head
from db.repo import Repo
from handlers.payments.delivery import RENDERERS
from services.cities import load_directory
from services.clock import Clock
from services.crypto import Secrets, load_secrets
from services.outbox import RetryPolicy
from services.payouts import ManualPayoutGateway
from services.storage import LocalPhotoStorage, PhotoStorage, S3PhotoStorage

log = logging.getLogger(__name__)
# Telegram allows about 30 messages a second overall; the notices leave room for the answers to updates, which do
# not go through the notifier (a publish answers its seller while its alerts go out). Shared by every instance.
NOTICES_PER_SECOND = 25


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
    outbox: OutboxWorker
    reconciler: ReconcileJob
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self) -> None:
        """Stop taking updates; the runner lets the running ones finish, then the app closes."""
        self.stopping.set()

    async def close(self) -> None:
        """After the runner has drained the updates: the jobs, then the outbox's pass in progress (within the
        shutdown timeout; what is left stays queued for the next start), then the session."""
        await self.scheduler.stop()
        await self.reconciler.stop()
        await self.outbox.stop(self.settings.shutdown_timeout)
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


def database_pool(settings: Settings) -> dict[str, int]:
    """The PostgreSQL pool's size (SQLite has its one shared connection whatever is asked)."""
    if settings.database_url.startswith("sqlite"):
        return {}
    return {"pool_size": settings.updates_concurrency, "max_overflow": settings.database_pool_spare}


async def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    clock = clock or Clock()
    secrets = load_secrets(_secret(settings.encryption_key), _secret(settings.fingerprint_key), settings.data_dir)
    photo_storage = create_photo_storage(settings, secrets)
    # A connection for every update running at once, and spare ones for the jobs: none waits for the pool.
    engine = create_engine(settings.database_url, **database_pool(settings))
    await upgrade_to_head(engine)
    await load_directory()  # before the first update, off the event loop
    sessionmaker = create_sessionmaker(engine)
    bot = create_bot(settings)
    prebuild()  # the Bot API models every update uses, before the first update (bot/lazy_types.py)

    async def mark_blocked(telegram_id: int) -> None:
        # A transaction of its own, also inside an update: the update's was committed before the failed send
        # (CommitBeforeSpeaking), so its connection is free.
        async with sessionmaker() as session, session.begin():
            await Repo(session).users.mark_blocked_bot(telegram_id)

    storage = create_fsm_storage(settings, sessionmaker)
    in_redis = redis_storage(storage)
    shared = SharedRate(in_redis.redis, NOTICES_PER_SECOND) if in_redis is not None else None
    notifier = Notifier(bot, on_blocked=mark_blocked, per_second=NOTICES_PER_SECOND, overall=shared)
    dispatcher = create_dispatcher(
        settings=settings,
        sessionmaker=sessionmaker,
        storage=storage,
        clock=clock,
        secrets=secrets,
        photo_storage=photo_storage,
        payout_gateway=ManualPayoutGateway(),
    )
    sweeper = Sweeper(sessionmaker, clock, waitlist_rules(settings), chat_retention_days=settings.chat_retention_days)
    scheduler = SweepScheduler(sweeper, settings.sweep_interval_seconds)
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    policy = RetryPolicy(max_attempts=settings.outbox_max_attempts, lease=lease)
    outbox = OutboxWorker(sessionmaker, bot, notifier, RENDERERS, secrets, photo_storage, policy=policy,
                          poll_seconds=settings.outbox_poll_seconds, payment_rules=payment_rules(settings))  # fmt: skip
    reconciler = ReconcileJob(sessionmaker, bot, payment_rules(settings), settings.admin_ids,
                              interval_seconds=settings.reconcile_interval_seconds)  # fmt: skip
    return App(settings, engine, sessionmaker, bot, dispatcher, clock, notifier, secrets, photo_storage, scheduler,
               outbox, reconciler)  # fmt: skip


def freeze_start_up_heap() -> None:
    """Everything built at start-up (the city directory, aiogram's and pydantic's models: ~350K objects) lives as
    long as the process: moved out of the garbage collector's reach, so a full collection no longer walks it
    (150-250 ms of one update's time every few hundred updates). Called once by the process that serves updates,
    after `build_app`."""
    gc.collect()
    gc.freeze()


async def serve(app: App, *, handle_signals: bool = True) -> None:
    """Long polling until SIGTERM/SIGINT (with `handle_signals`) or `app.stop()`; closes the app afterwards."""
    runner = PollingRunner(
        app.dispatcher,
        app.bot,
        polling_timeout=app.settings.polling_timeout,
        concurrency=app.settings.updates_concurrency,
        shutdown_timeout=app.settings.shutdown_timeout,
    )
    await _run(app, runner.run, handle_signals=handle_signals)


def webhook_runner(app: App) -> WebhookRunner:
    settings = app.settings
    assert settings.webhook_base_url and settings.webhook_secret, "checked by python -m bot webhook"

    async def database() -> str:
        async with app.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return "ok"

    async def redis() -> str:
        if not settings.redis_url:
            return "unused"
        from redis.asyncio import Redis  # imported only where REDIS_URL is set

        client = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return "ok"

    return WebhookRunner(
        app.dispatcher,
        app.bot,
        url=settings.webhook_base_url + settings.webhook_path,
        path=settings.webhook_path,
        secret=settings.webhook_secret.get_secret_value(),
        listen=settings.webhook_address,
        concurrency=settings.updates_concurrency,
        shutdown_timeout=settings.shutdown_timeout,
        health={"database": database, "redis": redis},
        metrics=lambda: render_metrics(app.engine),
    )


async def serve_webhook(app: App, *, handle_signals: bool = True, runner: WebhookRunner | None = None) -> None:
    """The webhook server until SIGTERM/SIGINT (with `handle_signals`) or `app.stop()`; closes the app afterwards."""
    await _run(app, (runner or webhook_runner(app)).run, handle_signals=handle_signals)


async def _run(app: App, take_updates: Callable[[asyncio.Event], Awaitable[None]], *, handle_signals: bool) -> None:
    if handle_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _stop_on_signal, app, signum)
    try:
        await set_commands(app.bot, await admin_languages(app.sessionmaker, app.settings.admin_ids))
        me = await app.bot.me()  # cached: share links name the bot
        log.info("Serving as @%s", me.username)
        app.scheduler.start()
        app.outbox.start()
        app.reconciler.start()
        await take_updates(app.stopping)
    finally:
        await app.close()


def _stop_on_signal(app: App, signum: signal.Signals) -> None:
    log.info("Stopping on %s", signum.name)
    app.stop()
