"""Handler tests through `Dispatcher.feed_update`: the real dispatcher, middlewares and routers over a real SQLite
file, with a mocked Bot API session in the manner of aiogram's own tests (tests/mocked_bot.py): it records every
request and answers it as Telegram would (files included: getFile and the download serve what a test put in
`files`), or fails the calls a test names; `landed` hooks see each call Telegram took."""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import AnswerCallbackQuery, GetFile, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Chat, File, InlineKeyboardMarkup, Message, Update
from aiogram.types import User as TelegramUser
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import create_bot, create_dispatcher
from db.engine import create_engine, create_sessionmaker
from db.repo import Repo
from services.clock import FrozenClock
from services.crypto import load_secrets
from services.payouts import ManualPayoutGateway
from services.storage import LocalPhotoStorage
from tests.factories import make_settings

ADMIN_ID = 900001
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


Failure = BaseException | Callable[[TelegramMethod[Any]], BaseException]


class MockedSession(BaseSession):
    """Records each request; answers a sent message with a Message, anything else with True; `fail` makes the
    next calls of a method raise what Telegram (or the network) would (an error, or one made from the call)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.failures: list[tuple[type[TelegramMethod[Any]], Failure]] = []
        self.files: dict[str, bytes] = {}
        self.landed: list[Callable[[TelegramMethod[Any]], None]] = []
        self._ids = itertools.count(1000)

    def fail(self, method: type[TelegramMethod[Any]], error: Failure) -> None:
        self.failures.append((method, error))

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's)
    ) -> TelegramType:
        self.requests.append(method)
        for index, (kind, error) in enumerate(self.failures):
            if isinstance(method, kind):
                del self.failures[index]
                raise error if isinstance(error, BaseException) else error(method)
        for hook in self.landed:
            hook(method)
        if isinstance(method, GetFile):
            found: Any = File(file_id=method.file_id, file_unique_id=method.file_id, file_path=method.file_id)
            return found
        if method.__returning__ is Message:
            chat_id = getattr(method, "chat_id", 0)
            result: Any = Message(
                message_id=next(self._ids),
                date=NOW,
                chat=Chat(id=int(chat_id), type="private"),
                text=getattr(method, "text", None),
            )
            return result
        answered: Any = True
        return answered

    async def stream_content(self, url: str, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield self.files.get(url.rsplit("/", 1)[-1], b"")

    async def close(self) -> None:
        pass

    def sent(self, kind: type[TelegramMethod[Any]]) -> list[Any]:
        return [request for request in self.requests if isinstance(request, kind)]

    def answers(self) -> list[AnswerCallbackQuery]:
        return self.sent(AnswerCallbackQuery)


@dataclass
class Chatting:
    """A dispatcher built by the bot's own factory, its mocked session and database; updates in, requests out."""

    dispatcher: Dispatcher
    bot: Bot
    session: MockedSession
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FrozenClock
    updates: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def feed(self, update: Update) -> None:
        await self.dispatcher.feed_update(self.bot, update)

    async def message(self, person: TelegramUser, text: str) -> None:
        chat = Chat(id=person.id, type="private")
        message = Message(message_id=next(self.updates), date=NOW, chat=chat, from_user=person, text=text)
        await self.feed(Update(update_id=next(self.updates), message=message))

    async def press(self, person: TelegramUser, data: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """A press of `data` on a message showing `markup` (none: a forged press on a message without it)."""
        chat = Chat(id=person.id, type="private")
        shown = Message(message_id=next(self.updates), date=NOW, chat=chat, text="…", reply_markup=markup)
        query = CallbackQuery(id=str(next(self.updates)), from_user=person, chat_instance="c", message=shown,
                              data=data)  # fmt: skip
        await self.feed(Update(update_id=next(self.updates), callback_query=query))

    @asynccontextmanager
    async def repo(self) -> AsyncIterator[Repo]:
        async with self.sessionmaker() as session:
            yield Repo(session)
            await session.commit()


def person(telegram_id: int, language: str = "en") -> TelegramUser:
    return TelegramUser(id=telegram_id, is_bot=False, first_name="Test", language_code=language)


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Path:
    """A copy of the migrated SQLite template for this test."""
    path = tmp_path / "handlers.db"
    path.write_bytes(sqlite_template.read_bytes())
    return path


@pytest.fixture
async def engine(database: Path) -> AsyncIterator[AsyncEngine]:
    path = database
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Settings a test changes (parametrize it by this name): none, so Stars and no fee."""
    return {}


@pytest.fixture
async def chatting(
    engine: AsyncEngine, data_dir: Path, tmp_path: Path, settings_overrides: dict[str, object]
) -> AsyncIterator[Chatting]:
    settings = make_settings(data_dir=data_dir, admin_ids=[ADMIN_ID], **settings_overrides)
    session = MockedSession()
    bot = create_bot(settings, session)
    sessionmaker = create_sessionmaker(engine)
    clock = FrozenClock(NOW)
    secrets = load_secrets(None, None, data_dir)
    dispatcher = create_dispatcher(
        settings=settings,
        sessionmaker=sessionmaker,
        storage=MemoryStorage(),
        clock=clock,
        secrets=secrets,
        photo_storage=LocalPhotoStorage(tmp_path / "photos", secrets),
        payout_gateway=ManualPayoutGateway(),
    )
    yield Chatting(dispatcher, bot, session, sessionmaker, clock)
