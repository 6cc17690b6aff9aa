"""Webhook mode of the emulator: the secret header, retries with backoff, per-chat order, round robin over several
receivers, and the reply-in-body that aiogram's webhook handler writes."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from sandbox.emulator import BotApiEmulator

from .conftest import Serve


class Receiver:
    """A tiny webhook endpoint: records what arrives, answers with the statuses it is told to (then 200)."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.received: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.app = web.Application()
        self.app.router.add_post("/hook", self._hook)

    async def _hook(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.received.append(update)
        return web.json_response({}, status=status)

    def texts(self) -> list[str]:
        return [u["message"]["text"] for u in self.received if "message" in u]


async def eventually(condition: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_secret_header_conflict_info_and_delete(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    receiver = Receiver()
    url = await serve(receiver.app) + "/hook"
    await bot.set_webhook(url, secret_token="s3cret-_OK", max_connections=7)
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    ann = emu.user(1001, "Ann")
    await ann.send("/start")
    await eventually(lambda: receiver.received)
    assert receiver.texts() == ["/start"] and receiver.secrets == ["s3cret-_OK"]
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections, info.pending_update_count) == (url, 7, 0)
    await bot.delete_webhook()
    await ann.send("after")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["after"]
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook(url, secret_token="no spaces")


async def test_set_webhook_ends_a_waiting_get_updates(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await emu.wait_polling()
    await bot.set_webhook(await serve(Receiver().app) + "/hook")
    with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
        await waiting


async def test_drop_pending_updates(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("old")
    receiver = Receiver()
    await bot.set_webhook(await serve(receiver.app) + "/hook", drop_pending_updates=True)
    await ann.send("new")
    await emu.wait_idle()
    assert receiver.texts() == ["new"]


async def test_failures_are_retried_with_growing_delays(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    receiver = Receiver(statuses=[500, 502, 503])
    url = await serve(receiver.app) + "/hook"
    await bot.set_webhook(url)
    await emu.user(1001, "Ann").send("/start")
    await eventually(lambda: receiver.received)
    assert receiver.texts() == ["/start"]
    tries = list(emu.webhooks.deliveries)
    assert [d.status for d in tries] == [500, 502, 503, 200]
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= emu.webhooks.first_delay * 0.9 and gaps[2] > gaps[0]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 503" and info.pending_update_count == 0


async def test_connection_errors_are_retried_until_the_receiver_is_up(emu: BotApiEmulator, bot: Bot) -> None:
    # A port nobody listens on yet: bind it, close it, then start the receiver there after a few failed tries.
    probe = web.AppRunner(web.Application())
    await probe.setup()
    site = web.TCPSite(probe, "127.0.0.1", 0)
    await site.start()
    port = probe.addresses[0][1]
    await probe.cleanup()
    await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
    await emu.user(1001, "Ann").send("/start")
    await eventually(lambda: len(emu.webhooks.deliveries) >= 2)
    assert all(d.status == 0 for d in emu.webhooks.deliveries)
    assert (await bot.get_webhook_info()).last_error_message.startswith("Connection failed")
    receiver = Receiver()
    runner = web.AppRunner(receiver.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await eventually(lambda: receiver.received)
        assert receiver.texts() == ["/start"]
    finally:
        await runner.cleanup()


async def test_one_chat_in_order_while_other_chats_go_on(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    arrived: list[str] = []
    failed_once: set[str] = set()

    async def hook(request: web.Request) -> web.Response:
        text = (await request.json())["message"]["text"]
        if text == "ann-1" and text not in failed_once:
            failed_once.add(text)
            await asyncio.sleep(0.2)
            return web.Response(status=500)
        await asyncio.sleep(0.01)
        arrived.append(text)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    await bot.set_webhook(await serve(app) + "/hook", max_connections=10)
    ann, bob = emu.user(1001, "Ann"), emu.user(1002, "Bob")
    for i in range(1, 4):
        await ann.send(f"ann-{i}")
        await bob.send(f"bob-{i}")
    await emu.wait_idle()
    assert [t for t in arrived if t.startswith("ann")] == ["ann-1", "ann-2", "ann-3"]
    assert [t for t in arrived if t.startswith("bob")] == ["bob-1", "bob-2", "bob-3"]
    # Bob was not held up behind Ann's failed update.
    assert arrived.index("bob-3") < arrived.index("ann-1")


async def test_round_robin_over_several_receivers(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    first, second = Receiver(), Receiver(statuses=[502])
    emu.webhook_targets = [await serve(first.app) + "/hook", await serve(second.app) + "/hook"]
    await bot.set_webhook("https://bot.example.com/telegram", max_connections=1)
    ann = emu.user(1001, "Ann")
    for i in range(4):
        await ann.send(f"m{i}")
    await emu.wait_idle()
    # m0 -> first; m1 -> second (502) -> retried on first; m2 -> second; m3 -> first.
    assert first.texts() == ["m0", "m1", "m3"] and second.texts() == ["m2"]
    urls = [d.url.split("/hook")[0] for d in emu.webhooks.deliveries]
    assert len(set(urls[0::2])) == 1 and len(set(urls[1::2])) == 1 and urls[0] != urls[1]


async def test_aiogram_webhook_reply_in_the_response_body(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> Any:
        return message.answer("Hello <b>from the body</b>", parse_mode="HTML")

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="tok").register(app, path="/hook")
    await bot.set_webhook(await serve(app) + "/hook", secret_token="tok")
    ann = emu.user(1001, "Ann")
    await ann.send("/start")
    reply = await ann.wait_message()
    assert reply.text == "Hello from the body" and reply.data["entities"][0]["type"] == "bold"
    assert [c.method for c in emu.calls_to("sendMessage")] == ["sendMessage"]


async def test_a_wrong_secret_is_refused_by_aiogram_and_retried(emu: BotApiEmulator, bot: Bot, serve: Serve) -> None:
    dp = Dispatcher()
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="right").register(app, path="/hook")
    await bot.set_webhook(await serve(app) + "/hook", secret_token="wrong")
    await emu.user(1001, "Ann").send("/start")
    await eventually(lambda: len(emu.webhooks.deliveries) >= 2)
    assert {d.status for d in emu.webhooks.deliveries} == {401}
    await bot.set_webhook(emu.webhooks.deliveries[0].url, secret_token="right")
    await eventually(lambda: emu.webhooks.deliveries[-1].status == 200)
