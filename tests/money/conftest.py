"""Fixtures of the money tests: the Bot API emulator and a bot talking to it, a sessionmaker on the test's
database, the keys and the photo storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import create_bot
from db.engine import create_sessionmaker
from sandbox.emulator import BotApiEmulator
from services.crypto import Secrets, load_secrets
from services.storage import LocalPhotoStorage
from tests.factories import TOKEN, make_settings


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    bot = create_bot(make_settings(telegram_api_url=emu.base_url))
    yield bot
    await bot.session.close()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def secrets(tmp_path: Path) -> Secrets:
    return load_secrets(None, None, tmp_path)


@pytest.fixture
def photos(tmp_path: Path, secrets: Secrets) -> LocalPhotoStorage:
    return LocalPhotoStorage(tmp_path / "photos", secrets)
