"""Webhook mode, the real app on its aiohttp server: the emulator delivers updates to it with the secret header;
a request without the secret or with a wrong one is refused with 401 and changes nothing; /healthz and /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.app import App, build_app, serve_webhook, webhook_runner
from bot.i18n import translate
from sandbox.emulator import BotApiEmulator
from tests.conftest import Backend, free_port
from tests.factories import TOKEN, make_settings

SECRET = "s3cret-Token_1"


async def webhook_app(emu: BotApiEmulator, backend: Backend, tmp_path: Path, **overrides: object) -> App:
    port = free_port()
    settings = make_settings(
        database_url=backend.database_url,
        telegram_api_url=emu.base_url,
        data_dir=tmp_path / "data",
        webhook_base_url=f"http://127.0.0.1:{port}",
        webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
        **overrides,
    )
    return await build_app(settings)


@pytest.fixture
async def served(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[BotApiEmulator, App, str]]:
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
        app = await webhook_app(emu, backend, tmp_path)
        task = asyncio.create_task(serve_webhook(app, handle_signals=False))
        await emu.wait_polling(timeout=30)  # setWebhook called: the server is up
        try:
            yield emu, app, app.settings.webhook_base_url or ""
        finally:
            app.stop()
            await asyncio.wait_for(task, 30)


async def test_updates_come_in_with_the_secret_and_nothing_without_it(served: tuple[BotApiEmulator, App, str]) -> None:
    emu, _, base = served
    assert emu.bot.webhook_url == base + "/telegram" and emu.bot.webhook_secret == SECRET
    anna = emu.user(7501, "Anna", language_code="en", phone="+79160007501")
    await anna.start()  # delivered by the emulator's webhook, with the secret
    greeting = await anna.wait_new(timeout=30)
    await anna.press(greeting.keyboard[0][0])
    assert (await anna.wait_new(timeout=30)).content == translate("reg-done", "en", name="Anna")

    forged = {"update_id": 99_999, "message": {"message_id": 1, "date": 0, "chat": {"id": 7501, "type": "private"},
              "from": {"id": 7501, "is_bot": False, "first_name": "Anna"}, "text": "/profile"}}  # fmt: skip
    sent = len(emu.calls_to("sendMessage"))
    async with ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(base + "/telegram", json=forged, headers=headers) as response:
                assert response.status == 401
        async with http.get(base + "/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"database": "ok", "redis": "unused"}
        async with http.get(base + "/metrics") as response:
            metrics = await response.text()
    await emu.wait_idle()
    assert len(emu.calls_to("sendMessage")) == sent  # the forged updates reached no handler
    assert 'stroboscope_updates_total{type="message"}' in metrics
    assert "stroboscope_update_seconds_bucket" in metrics and "stroboscope_outbox_depth" in metrics


async def test_healthz_is_503_when_redis_is_down(backend: Backend, tmp_path: Path) -> None:
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
        app = await webhook_app(emu, backend, tmp_path, redis_url="redis://127.0.0.1:1/0")
        runner = webhook_runner(app)
        async with ClientSession() as http:
            server = asyncio.create_task(serve_webhook(app, handle_signals=False, runner=runner))
            try:
                await emu.wait_polling(timeout=30)
                async with http.get(f"{app.settings.webhook_base_url}/healthz") as response:
                    assert response.status == 503
                    states = await response.json()
            finally:
                app.stop()
                await asyncio.wait_for(server, 30)
    assert states["database"] == "ok" and states["redis"].startswith("down")
