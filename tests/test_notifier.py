"""The notifier against the Bot API emulator: its rates (per chat and overall), 429 retry_after honoured and given up
after a few tries, 5xx retried, a user who blocked the bot marked once and skipped afterwards, a bad chat refused
without a retry. Rates are raised here so that the spacing shows in a fraction of a second."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiogram import Bot
from redis.asyncio import Redis

from bot import notifier as notifier_module
from bot.factory import create_bot
from bot.notifier import PER_CHAT_BURST, Notifier, SharedRate
from db.models import User
from sandbox.emulator import BotApiEmulator
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


def people(emu: BotApiEmulator, *ids: int) -> None:
    for user_id in ids:
        emu.user(user_id, f"P{user_id}").started = True


def times_to(emu: BotApiEmulator, chat_id: int) -> list[float]:
    return [call.at for call in emu.calls_to("sendMessage") if call.params.get("chat_id") == chat_id]


def account(telegram_id: int, *, blocked: bool = False) -> User:
    return User(telegram_id=telegram_id, phone_e164="+79160000000", full_name="A B", first_name="A", language="en",
                blocked_bot=blocked, created_at=datetime.now(UTC))  # fmt: skip


@pytest.mark.serial  # paced in hundredths of a second, measured as the calls reach the emulator
async def test_one_chat_gets_at_most_its_rate(emu: BotApiEmulator, bot: Bot) -> None:
    people(emu, 1)
    notifier = Notifier(bot, per_chat_second=5, per_second=1000)
    for n in range(4):
        assert await notifier.send(1, f"message {n}")
    stamps = times_to(emu, 1)
    assert len(stamps) == 4
    # A burst, then 0.2 s each (what is left of the margin after the calls' uneven travel times on a busy machine).
    assert stamps[-1] - stamps[0] >= (4 - PER_CHAT_BURST) * 0.2 - 0.1
    assert [m.text for m in emu.messages_in(1)] == [f"message {n}" for n in range(4)]


async def test_many_chats_share_the_overall_rate(emu: BotApiEmulator, bot: Bot) -> None:
    """40 a second overall: 60 messages to 60 chats take at least half a second (40 at once, then 20 at 40/s)."""
    people(emu, *range(100, 160))
    notifier = Notifier(bot, per_second=40)
    started = time.monotonic()
    for chat_id in range(100, 160):
        assert await notifier.send(chat_id, "hello")
    assert time.monotonic() - started >= 0.45
    # A leaky bucket of 40 draining at 40/s: any stretch of calls holds at most 40 + 40 x its duration (+ jitter).
    stamps = sorted(call.at for call in emu.calls_to("sendMessage"))
    assert all(j - i + 1 <= 40 + 40 * (stamps[j] - stamps[i]) + 2 for i in range(60) for j in range(i, 60))


async def test_a_429_waits_retry_after_then_delivers(emu: BotApiEmulator, bot: Bot) -> None:
    people(emu, 7)
    emu.fail_next("sendMessage", 429, retry_after=1, chat_id=7)
    assert await Notifier(bot).send(7, "after the flood")
    first, second = times_to(emu, 7)
    assert second - first >= 1.0
    assert [m.text for m in emu.messages_in(7)] == ["after the flood"]


async def test_a_429_that_persists_is_given_up(emu: BotApiEmulator, bot: Bot) -> None:
    people(emu, 8)
    emu.fail_next("sendMessage", 429, retry_after=1, chat_id=8, times=5)
    assert not await Notifier(bot, max_retries=1).send(8, "never")
    assert len(times_to(emu, 8)) == 2 and emu.messages_in(8) == []


async def test_a_telegram_server_error_is_retried(
    emu: BotApiEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier_module, "SERVER_ERROR_PAUSE", 0.01)
    people(emu, 9)
    emu.fail_next("sendMessage", 502, chat_id=9)
    assert await Notifier(bot, per_chat_second=100).send(9, "second time lucky")
    assert len(times_to(emu, 9)) == 2


async def test_a_user_who_blocked_the_bot_is_marked_once_and_skipped(emu: BotApiEmulator, bot: Bot) -> None:
    people(emu, 5, 6)
    emu.user(5, "P5").block_bot()
    marked: list[int] = []

    async def on_blocked(telegram_id: int) -> None:
        marked.append(telegram_id)

    notifier = Notifier(bot, on_blocked=on_blocked)
    user = account(5)
    assert not await notifier.notify(user, "hello?")
    assert marked == [5] and user.blocked_bot and len(times_to(emu, 5)) == 1  # no retry of a 403
    for _ in range(3):  # later sweeps load the flag with the account: nobody knocks again
        assert not await notifier.notify(account(5, blocked=True), "hello again?")
    assert len(times_to(emu, 5)) == 1 and marked == [5]
    assert await notifier.notify(account(6), "hi") and [m.text for m in emu.messages_in(6)] == ["hi"]


async def test_a_chat_that_cannot_be_reached_is_not_retried_nor_marked(emu: BotApiEmulator, bot: Bot) -> None:
    marked: list[int] = []

    async def on_blocked(telegram_id: int) -> None:
        marked.append(telegram_id)

    assert not await Notifier(bot, on_blocked=on_blocked).send(424242, "anyone?")  # 400 chat not found
    assert len(times_to(emu, 424242)) == 1 and marked == []


async def test_a_shared_slot_granted_after_its_second_is_over_is_not_used(redis: Redis) -> None:
    """The slot is asked for at 100.999 and granted at 101.001: the message would go out in second 101 on top of
    101's own five, so a slot of 101 is taken instead (real Redis, the clock injected)."""
    readings = iter([100.999, 101.001, 101.001, 101.002])
    rate = SharedRate(redis, 5, prefix="late", clock=lambda: next(readings))
    async with rate:
        pass
    assert (await redis.get("late:100"), await redis.get("late:101")) == (b"1", b"1")
