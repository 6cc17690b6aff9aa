"""The fault sweep: every Bot API call of the sell flow and of the buy flow (its in-line answers and the outbox's
delivery) fails its first try with a 429 (retry_after), a 500, a 502 or a timeout that never reached Telegram,
one method at a time, under Telegram's per-chat flood limit counted strictly. Each flow completes (the person
presses or types again only when nothing came back, as a real one would), nothing is sent twice, no traceback is
logged and no flood limit is broken.

Time runs SCALE times faster than Telegram's: the per-chat bucket counts SCALE Telegram seconds a real second,
the notifier's per-chat pace and the in-update retry's waits are scaled to match, a person's pause between two
actions is PAUSE Telegram seconds, and the outbox worker's clock is moved on to whatever row is due next."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    AnswerPreCheckoutQuery,
    EditMessageText,
    GetFile,
    SendInvoice,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    Chat,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    PreCheckoutQuery,
    SuccessfulPayment,
    Update,
)
from sqlalchemy import func, select

import bot.middlewares.hiccups as hiccups
from bot.i18n import translate
from bot.notifier import Notifier
from bot.workers.outbox import OutboxWorker
from db.models import LedgerEntry, Order, OrderStatus, OutboxMessage, OutboxStatus, Ticket, TicketStatus
from handlers.buy.callbacks import BuyAction, BuyCD
from handlers.payments.delivery import RENDERERS
from sandbox.limits import SENDING, Bucket
from services.outbox import RetryPolicy, wall_clock
from tests import conftest as root_fixtures
from tests.conftest import Backend, make_backend
from tests.factories import BARCODE_CORPUS, BarcodeSample, make_listed_ticket, make_user
from tests.handlers.conftest import NOW, Chatting, person

SCALE = 50.0
PAUSE = 2.0  # Telegram seconds a person takes between two actions
TRIES = 3  # a person's tries of one action before the sweep calls the flow stuck
QR_PHOTO = BARCODE_CORPUS / "qr" / "qrcode-1_1.webp"
FAULTS: dict[str, Callable[[TelegramMethod[Any]], Exception]] = {
    "429": lambda m: TelegramRetryAfter(m, "Too Many Requests: retry after 1", retry_after=1),
    "500": lambda m: TelegramServerError(m, "Internal Server Error"),
    "502": lambda m: TelegramServerError(m, "Bad Gateway"),
    "timeout": lambda m: TelegramNetworkError(m, "Request timeout error"),
}
SELL_METHODS = [SendMessage, EditMessageText, AnswerCallbackQuery, GetFile]
BUY_METHODS = [AnswerCallbackQuery, SendInvoice, AnswerPreCheckoutQuery, SendMessage, SendPhoto]


def _identity(method: TelegramMethod[Any]) -> tuple[object, ...]:
    """One call, whichever try: the same chat and words (the outbox renders a row's calls again on a retry)."""
    fields = ("chat_id", "text", "caption", "callback_query_id", "pre_checkout_query_id", "message_id", "file_id")
    return (type(method).__name__, *(str(getattr(method, name, None)) for name in fields))


class Telegram:
    """The faults in force and what Telegram took: each call of `method` fails its first try with `fault`; the
    calls that landed are counted against the per-chat bucket (burst 3, then one a second)."""

    def __init__(self, chatting: Chatting, method: type[TelegramMethod[Any]], fault: str) -> None:
        self.chatting = chatting
        self.landed: list[TelegramMethod[Any]] = []
        self.violations: list[str] = []
        self.failed: set[tuple[object, ...]] = set()
        self.person_seconds = 0.0
        self._buckets: dict[int, Bucket] = {}
        self._method, self._fault = method, FAULTS[fault]
        chatting.session.landed.append(self._landed)
        original = chatting.session.make_request

        async def make_request(bot: Any, call: TelegramMethod[Any], timeout: int | None = None) -> Any:  # noqa: ASYNC109
            if isinstance(call, self._method) and _identity(call) not in self.failed:
                self.failed.add(_identity(call))
                chatting.session.requests.append(call)
                raise self._fault(call)
            return await original(bot, call, timeout)

        chatting.session.make_request = make_request  # type: ignore[method-assign]

    def now(self) -> float:
        return time.monotonic() * SCALE + self.person_seconds

    def _landed(self, call: TelegramMethod[Any]) -> None:
        self.landed.append(call)
        chat = getattr(call, "chat_id", None)
        if call.__api_method__.lower() in SENDING and isinstance(chat, int):
            bucket = self._buckets.setdefault(chat, Bucket(1.0, 3.0, at=self.now()))
            if bucket.take(self.now()) > 1e-6:
                self.violations.append(f"{call.__api_method__} to {chat}")

    def texts(self, since: int = 0) -> list[str]:
        return [str(getattr(m, "text", None) or getattr(m, "caption", None) or "") for m in self.landed[since:]]

    def markup(self) -> InlineKeyboardMarkup:
        """The keyboard of the newest message drawn with one."""
        for call in reversed(self.landed):
            markup = getattr(call, "reply_markup", None)
            if isinstance(markup, InlineKeyboardMarkup):
                return markup
        raise AssertionError("no keyboard drawn")

    async def until(self, action: Callable[[], Awaitable[None]], expect: str | type[TelegramMethod[Any]]) -> None:
        """A person's action, done again while nothing saying `expect` (or no such call) came back."""
        for _ in range(TRIES):
            self.person_seconds += PAUSE
            self.chatting.clock.move(timedelta(seconds=PAUSE))  # the bot's throttling runs on this clock
            mark = len(self.landed)
            await action()
            if isinstance(expect, str) and any(expect in text for text in self.texts(mark)):
                return
            if isinstance(expect, type) and any(isinstance(call, expect) for call in self.landed[mark:]):
                return
        raise AssertionError(f"stuck: no {expect!r} after {TRIES} tries; got {self.texts()[-5:]}")


def press(chatting: Chatting, telegram: Telegram, who: int, label: str) -> Callable[[], Awaitable[None]]:
    async def pressing() -> None:
        buttons = [b for row in telegram.markup().inline_keyboard for b in row if label in b.text]
        assert buttons, f"no {label!r} button"
        await chatting.press(person(who), str(buttons[0].callback_data))

    return pressing


def say(chatting: Chatting, who: int, text: str) -> Callable[[], Awaitable[None]]:
    return lambda: chatting.message(person(who), text)


def send_photo(chatting: Chatting, who: int, data: bytes) -> Callable[[], Awaitable[None]]:
    chatting.session.files["photo-1"] = data
    size = PhotoSize(file_id="photo-1", file_unique_id="photo-1", width=1000, height=1000, file_size=len(data))

    async def sending() -> None:
        chat = Chat(id=who, type="private")
        message = Message(message_id=next(chatting.updates), date=NOW, chat=chat, from_user=person(who), photo=[size])
        await chatting.feed(Update(update_id=next(chatting.updates), message=message))

    return sending


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A SQLite file, or PostgreSQL where a test asks for it (the money flow runs on both)."""
    return make_backend(getattr(request, "param", "sqlite"), request, tmp_path)


engine = root_fixtures.engine  # over `backend` above, in place of the handlers' SQLite-only engine


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-update retry's waits in scaled time."""

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / SCALE)

    monkeypatch.setattr(hiccups, "asyncio", SimpleNamespace(sleep=sleep))


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info]
    assert tracebacks == []


@pytest.mark.usefixtures("scaled")
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("method", SELL_METHODS, ids=lambda m: m.__name__)
async def test_the_sell_flow_completes_through_each_fault(
    chatting: Chatting, caplog: pytest.LogCaptureFixture, method: type[TelegramMethod[Any]], fault: str
) -> None:
    async with chatting.repo() as repo:
        await make_user(repo, NOW, telegram_id=6101)
    telegram = Telegram(chatting, method, fault)
    when = (NOW + timedelta(days=30)).astimezone(ZoneInfo("Europe/Moscow"))
    with caplog.at_level(logging.INFO):
        await telegram.until(say(chatting, 6101, "💸 Sell a ticket"), "Step 1 of 9")
        await telegram.until(press(chatting, telegram, 6101, "Concert"), "Step 2 of 9")
        await telegram.until(say(chatting, 6101, "Splean"), "Step 3 of 9")
        await telegram.until(say(chatting, 6101, "Mosc"), "Choose the city")
        await telegram.until(press(chatting, telegram, 6101, "Moscow, Russia"), "Step 4 of 9")
        await telegram.until(say(chatting, 6101, "Crocus City Hall"), "Step 5 of 9")
        await telegram.until(say(chatting, 6101, f"{when:%d.%m.%Y} 19:00"), "Step 6 of 9")
        await telegram.until(say(chatting, 6101, "Section A, row 5, seat 12"), "Step 7 of 9")
        await telegram.until(say(chatting, 6101, "2000"), "Step 8 of 9")
        await telegram.until(say(chatting, 6101, "2200"), "Step 9 of 9")
        await telegram.until(send_photo(chatting, 6101, QR_PHOTO.read_bytes()), "Check your listing")
        await telegram.until(press(chatting, telegram, 6101, "Publish"), "Published")
    async with chatting.repo() as repo:
        statuses = list(await repo.session.scalars(select(Ticket.status)))
    assert statuses == [TicketStatus.ACTIVE]
    assert sum("🎉 Published" in text for text in telegram.texts()) == 1
    for step in range(1, 10):
        assert sum(f"Step {step} of 9" in text for text in telegram.texts()) == 1, step
    assert telegram.failed, f"no {method.__name__} call in the flow"
    assert telegram.violations == []
    no_traceback(caplog)


async def deliver(chatting: Chatting) -> None:
    """The outbox worker's passes until nothing is left, its clock moved on to the next row due."""
    dispatcher = chatting.dispatcher
    moved = timedelta()
    notifier = Notifier(chatting.bot, per_chat_second=SCALE)
    secrets, photos = dispatcher["secrets"], dispatcher["photo_storage"]
    worker = OutboxWorker(chatting.sessionmaker, chatting.bot, notifier, RENDERERS, secrets, photos,
                          policy=RetryPolicy(), clock=lambda: wall_clock() + moved)  # fmt: skip
    for _ in range(20):
        await worker.run_once()
        async with chatting.sessionmaker() as session:
            due = await session.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        if due is None:
            return
        moved = max(moved, due.replace(tzinfo=wall_clock().tzinfo) - wall_clock() + timedelta(milliseconds=1))
    raise AssertionError("the outbox never emptied")


@pytest.mark.usefixtures("scaled")
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("method", BUY_METHODS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
async def test_the_buy_flow_completes_and_delivers_once_through_each_fault(
    chatting: Chatting,
    caplog: pytest.LogCaptureFixture,
    qr_samples: list[BarcodeSample],
    method: type[TelegramMethod[Any]],
    fault: str,
) -> None:
    dispatcher = chatting.dispatcher
    async with chatting.repo() as repo:
        seller = await make_user(repo, NOW, telegram_id=6201, first_name="Sveta")
        await make_user(repo, NOW, telegram_id=6202, first_name="Boris")
        ticket = await make_listed_ticket(repo, seller, NOW, dispatcher["secrets"], dispatcher["photo_storage"],
                                          qr_samples[0])  # fmt: skip
    telegram = Telegram(chatting, method, fault)
    buy = BuyCD(action=BuyAction.BUY, id=ticket.id).pack()

    async def pressing_buy() -> None:
        await chatting.press(person(6202), buy)

    async def paying() -> None:
        invoice = [m for m in telegram.landed if isinstance(m, SendInvoice)][-1]
        amount = sum(price.amount for price in invoice.prices)
        query = PreCheckoutQuery(id=str(next(chatting.updates)), from_user=person(6202), currency=invoice.currency,
                                 total_amount=amount, invoice_payload=invoice.payload)  # fmt: skip
        mark = len(telegram.landed)
        await chatting.feed(Update(update_id=next(chatting.updates), pre_checkout_query=query))
        answers = [m for m in telegram.landed[mark:] if isinstance(m, AnswerPreCheckoutQuery)]
        if not (answers and answers[0].ok):
            return  # Telegram never heard the approval: no charge; the person pays again
        chat = Chat(id=6202, type="private")
        paid = SuccessfulPayment(currency=query.currency, total_amount=query.total_amount,
                                 invoice_payload=query.invoice_payload, telegram_payment_charge_id="stx-sweep-1",
                                 provider_payment_charge_id="6202_1")  # fmt: skip
        message = Message(message_id=next(chatting.updates), date=NOW, chat=chat, from_user=person(6202),
                          successful_payment=paid)  # fmt: skip
        await chatting.feed(Update(update_id=next(chatting.updates), message=message))
        telegram.landed.append(SendMessage(chat_id=0, text="(charged)"))  # the person's own view: paid

    with caplog.at_level(logging.INFO):
        await telegram.until(pressing_buy, SendInvoice)
        await telegram.until(paying, "(charged)")
        telegram.person_seconds += PAUSE
        await deliver(chatting)
    to_buyer = [m for m in telegram.landed if getattr(m, "chat_id", None) == 6202]
    captions = [m.caption for m in to_buyer if isinstance(m, SendPhoto)]
    assert len(captions) == 2 and len(set(captions)) == 2  # the barcode and the original photo, once each
    assert sum(isinstance(m, SendMessage) and "Your ticket" in m.text for m in to_buyer) == 1
    assert sum(isinstance(m, SendMessage) and m.text == translate("buy-paid", "en") for m in to_buyer) == 1
    assert len([m for m in to_buyer if isinstance(m, SendInvoice)]) == 1
    to_seller = [m for m in telegram.landed if isinstance(m, SendMessage) and m.chat_id == 6201]
    assert sum("was sold" in m.text for m in to_seller) == 1
    async with chatting.repo() as repo:
        orders = list(await repo.session.scalars(select(Order).where(Order.ticket_id == ticket.id)))
        assert [o.status for o in orders].count(OrderStatus.PAID) == 1
        payments = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "payment")
        assert await repo.session.scalar(payments) == 1
        rows = list(await repo.session.scalars(select(OutboxMessage.status)))
        assert rows and set(rows) == {OutboxStatus.SENT}
    assert telegram.failed, f"no {method.__name__} call in the flow"
    assert telegram.violations == []
    no_traceback(caplog)
