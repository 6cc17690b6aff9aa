"""End-to-end: the real bot (`bot.app.build_app` + `serve`, as `python -m bot` runs it) long-polls the Bot API
emulator over HTTP, and simulated people use it. Each test gets a fresh database on its stack, its own data
directory (keys, photos) and a log file that captures everything the bot logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app, serve
from bot.settings import Settings
from sandbox.emulator import BotApiEmulator
from sandbox.messages import BotMessage
from sandbox.users import SimulatedUser
from services.clock import FrozenClock
from tests.conftest import Backend, make_backend
from tests.factories import TOKEN, make_settings

ADMIN_ID = 900_001
# How long a person waits for the bot's answer here: the suite's workers share the machine's cores with real bot
# processes starting up, so an answer can take seconds; a missing answer still fails, only later.
REPLY_TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def patient_people(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BotApiEmulator, "reply_timeout", REPLY_TIMEOUT)


@dataclass
class Harness:
    """The emulator, the bot's settings and clock; `start()`/`stop()`/`restart()` run the real bot."""

    emu: BotApiEmulator
    settings: Settings
    clock: FrozenClock
    log_path: Path
    app: App | None = None
    _task: asyncio.Task[None] | None = None
    _phones: dict[int, str] = field(default_factory=dict)

    async def start(self) -> App:
        assert self.app is None, "already running"
        self.app = await build_app(self.settings, clock=self.clock)
        report_work(self.app, self.emu)
        self._task = asyncio.create_task(serve(self.app, handle_signals=False))
        await self.emu.wait_polling(timeout=15)
        return self.app

    async def stop(self) -> None:
        if self.app is None or self._task is None:
            return
        await self.emu.wait_idle()
        self.app.stop()
        await asyncio.wait_for(self._task, 30)
        self.app, self._task = None, None

    async def restart(self) -> App:
        await self.stop()
        return await self.start()

    def person(self, user_id: int, first_name: str = "Anna", *, language: str = "en", **kwargs: Any) -> SimulatedUser:
        """A person with a phone of their own (+7 916 ...), in the language given."""
        phone = kwargs.pop("phone", None) or f"+7916{user_id % 10_000_000:07d}"
        return self.emu.user(user_id, first_name, language_code=language, phone=phone, **kwargs)

    async def register(self, person: SimulatedUser) -> BotMessage:
        """/start, then the share-contact button; returns the welcome with the main menu."""
        await person.start()
        greeting = await person.wait_new()
        assert greeting.reply_markup and "keyboard" in greeting.reply_markup, greeting
        await person.press(greeting.reply_markup["keyboard"][0][0]["text"])
        welcome = await person.wait_new()
        assert person.reply_keyboard and len(person.reply_keyboard) >= 2, welcome
        return welcome

    async def admin(self) -> SimulatedUser:
        """The admin (ADMIN_IDS holds ADMIN_ID), registered."""
        person = self.person(ADMIN_ID, "Admin")
        await self.register(person)
        return person


def report_work(app: App, emu: BotApiEmulator) -> None:
    """Each update the app handles counts as work in flight for the emulator (`emu.working`): `wait_idle` returns
    once the handlers are done, not merely once the Bot API has been quiet for a moment."""

    async def working(handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], update: Any, data: Any) -> Any:
        with emu.working():
            return await handler(update, data)

    app.dispatcher.update.outer_middleware(working)


def _harness(backend: Backend, tmp_path: Path, **overrides: object) -> Callable[[], AsyncIterator[Harness]]:
    async def run() -> AsyncIterator[Harness]:
        log_path = tmp_path / "bot.log"
        handler = logging.FileHandler(log_path, encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
                settings = make_settings(
                    database_url=backend.database_url,
                    redis_url=backend.redis_url,
                    telegram_api_url=emu.base_url,
                    data_dir=tmp_path / "data",
                    admin_ids=[ADMIN_ID],
                    polling_timeout=5,
                    **overrides,
                )
                harness = Harness(emu, settings, FrozenClock(datetime.now(UTC).replace(microsecond=0)), log_path)
                await harness.start()
                try:
                    yield harness
                finally:
                    await harness.stop()
                assert emu.unknown_methods == [], f"the bot called methods the emulator lacks: {emu.unknown_methods}"
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            handler.close()

    return run


@pytest.fixture
async def harness_all(stack: Backend, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on every storage stack: SQLite, PostgreSQL, PostgreSQL with Redis FSM storage."""
    async for harness in _harness(stack, tmp_path)():
        yield harness


@pytest.fixture
async def harness(backend: Backend, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on a SQLite file and on PostgreSQL."""
    async for harness in _harness(backend, tmp_path)():
        yield harness


PROVIDER_TOKEN = "284685063:TEST:NjQ0ZmE2ZTdmNGRm"


@pytest.fixture
async def harness_provider(backend: Backend, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on a SQLite file and on PostgreSQL, taking card payments in RUB through a payment provider, with a
    5 % service fee."""
    async for harness in _harness(backend, tmp_path, payment_provider_token=PROVIDER_TOKEN, service_fee_percent=5)():
        yield harness


@pytest.fixture
def sqlite_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend("sqlite", request, tmp_path)


@pytest.fixture
async def harness_sqlite(sqlite_backend: Backend, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on the embedded default only, for flows whose storage behaviour other tests already cover."""
    async for harness in _harness(sqlite_backend, tmp_path)():
        yield harness
