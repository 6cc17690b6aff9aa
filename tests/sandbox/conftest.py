"""The emulator on a free port and a real aiogram Bot pointed at it, shared by the sandbox tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.factory import ApiSession
from sandbox.emulator import BotApiEmulator

TOKEN = "123456789:AAE-sandbox-test-token"
BOT_ID = 123456789


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=ApiSession(api=TelegramAPIServer.from_base(emu.base_url)))
    yield bot
    await bot.session.close()


Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Runs aiohttp apps on free ports (webhook receivers); returns each one's base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()
