"""Two webhook instances of the real bot on PostgreSQL and Redis behind the emulator's round robin (a load
balancer): consecutive updates of one person land on alternating instances, a crowd of buyers races across both,
one instance dies mid-wizard and the other carries on; the secret header is enforced on each; /healthz turns 503
when their Redis server stops."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import ClientSession
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.app import App, build_app, serve_webhook
from bot.notifier import SharedRate
from db.models import Ticket
from sandbox.emulator import BotApiEmulator
from services.clock import FrozenClock
from tests.conftest import Backend, free_port, make_backend
from tests.e2e.conftest import Harness, report_work
from tests.e2e.market import list_tickets, open_feed
from tests.e2e.test_buy_race import crowd
from tests.e2e.test_sell import QR_PHOTO, fill_until_photo, list_ticket, registered
from tests.e2e.test_webhook import SECRET
from tests.factories import TOKEN, BarcodeSample, make_settings

BUYERS = 20
CROWD_WAIT = 30.0


@dataclass
class Fleet:
    """The emulator and the running instances; `harness` drives people through the first instance's app."""

    harness: Harness
    apps: list[App]
    tasks: list[asyncio.Task[None]]
    urls: list[str] = field(default_factory=list)

    async def kill(self, index: int) -> None:
        """The instance stops taking requests at once (its running updates are cut short, nothing is confirmed)."""
        self.tasks[index].cancel()
        await asyncio.gather(self.tasks[index], return_exceptions=True)


async def start_instance(
    emu: BotApiEmulator, backend: Backend, tmp_path: Path, clock: FrozenClock, **overrides: object
) -> tuple[App, asyncio.Task[None]]:
    port = free_port()
    settings = make_settings(
        database_url=backend.database_url,
        redis_url=backend.redis_url,
        telegram_api_url=emu.base_url,
        data_dir=tmp_path / "data",  # one data directory: the same keys and photos, as a shared bucket would be
        webhook_base_url=f"http://127.0.0.1:{port}",
        webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
        **overrides,
    )
    app = await build_app(settings, clock=clock)
    report_work(app, emu)
    task = asyncio.create_task(serve_webhook(app, handle_signals=False))
    for _ in range(300):  # until its server answers
        try:
            async with ClientSession() as http, http.get(f"{settings.webhook_base_url}/healthz"):
                break
        except OSError:
            await asyncio.sleep(0.1)
    return app, task


@pytest.fixture
def redis_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend("redis", request, tmp_path)


@pytest.fixture
def pg_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend("postgresql", request, tmp_path)


@pytest.fixture
async def fleet(redis_backend: Backend, tmp_path: Path) -> AsyncIterator[Fleet]:
    backend = redis_backend
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
        first, first_task = await start_instance(emu, backend, tmp_path, clock)
        second, second_task = await start_instance(emu, backend, tmp_path, clock)
        apps, tasks = [first, second], [first_task, second_task]
        urls = [f"{app.settings.webhook_base_url}{app.settings.webhook_path}" for app in apps]
        emu.webhook_targets = urls
        harness = Harness(emu, first.settings, clock, tmp_path / "bot.log", app=first)
        tmp_path.joinpath("bot.log").touch()
        try:
            yield Fleet(harness, apps, tasks, urls)
        finally:
            await emu.wait_idle()
            for app in apps:
                app.stop()
            await asyncio.gather(*tasks, return_exceptions=True)


def served_by(fleet: Fleet) -> set[str]:
    return {d.url for d in fleet.harness.emu.webhooks.deliveries if 200 <= d.status < 300}


async def count_tickets(app: App) -> int:
    async with app.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(Ticket))).scalar_one())


async def test_a_sell_wizard_alternating_between_instances(fleet: Fleet) -> None:
    anna = await registered(fleet.harness, 6101, "Anna")
    await list_ticket(anna)
    assert served_by(fleet) == set(fleet.urls)  # the wizard's updates went to both instances
    assert await count_tickets(fleet.apps[1]) == 1


async def test_buyers_racing_across_both_instances(fleet: Fleet, qr_samples: list[BarcodeSample]) -> None:
    h = fleet.harness
    seller = h.person(7601, "Sveta")
    await h.register(seller)
    await list_tickets(h, seller, [qr_samples[3]])
    buyers = await crowd(h, BUYERS)
    pages = await asyncio.gather(*(open_feed(buyer, CROWD_WAIT) for buyer in buyers))
    pressed = (buyer.click(page, "Buy 1", timeout=CROWD_WAIT) for buyer, page in zip(buyers, pages, strict=True))
    texts = [answer.text if answer else None for answer in await asyncio.gather(*pressed)]
    held = [buyer for buyer, text in zip(buyers, texts, strict=True) if text and "held for you" in text]
    assert len(held) == 1 and len(h.emu.calls_to("sendInvoice")) == 1
    others = [buyer for buyer in buyers if buyer is not held[0]]
    await asyncio.gather(*(buyer.wait_text("Someone else is paying", CROWD_WAIT) for buyer in others))
    invoice = await held[0].wait_message(lambda m: m.invoice is not None)
    assert (await held[0].pay(invoice)).paid
    await held[0].wait_text("Your ticket", CROWD_WAIT)
    assert served_by(fleet) == set(fleet.urls)


async def test_one_instance_dies_mid_wizard_and_the_other_carries_on(fleet: Fleet) -> None:
    anna = await registered(fleet.harness, 6201, "Anna")
    await fill_until_photo(anna)
    await fleet.kill(1)  # the next deliveries to it fail and are retried on the live one, as a balancer would
    await anna.send_photo(QR_PHOTO)
    summary = await anna.wait_text("Check your listing")
    await anna.click(summary, "Publish")
    await anna.wait_text("🎉 Published")
    assert await count_tickets(fleet.apps[0]) == 1
    assert any(d.status == 0 and d.url == fleet.urls[1] for d in fleet.harness.emu.webhooks.deliveries)


async def test_every_instance_refuses_a_request_without_the_secret(fleet: Fleet) -> None:
    forged = {"update_id": 99_998, "message": {"message_id": 1, "date": 0, "chat": {"id": 6301, "type": "private"},
              "from": {"id": 6301, "is_bot": False, "first_name": "Eve"}, "text": "/start"}}  # fmt: skip
    async with ClientSession() as http:
        for url in fleet.urls:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 401
    await fleet.harness.emu.wait_idle()
    assert fleet.harness.emu.calls_to("sendMessage") == []


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own on a free port (the shared one is never stopped)."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"redis://127.0.0.1:{port}/0", server
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(10)


async def test_healthz_turns_503_when_redis_stops(
    pg_backend: Backend, tmp_path: Path, private_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, server = private_redis
    backend = Backend("redis", pg_backend.database_url, url)
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
        for _ in range(50):  # the private server takes a moment to listen
            try:
                app, task = await start_instance(emu, backend, tmp_path, clock)
                break
            except OSError:
                await asyncio.sleep(0.1)
        health = f"{app.settings.webhook_base_url}/healthz"
        try:
            async with ClientSession() as http:
                async with http.get(health) as response:
                    assert response.status == 200 and (await response.json())["redis"] == "ok"
                server.terminate()
                server.wait(10)
                async with http.get(health) as response:
                    assert response.status == 503
                    states = await response.json()
        finally:
            app.stop()
            await asyncio.gather(task, return_exceptions=True)
    assert states["database"] == "ok" and states["redis"].startswith("down")


async def test_the_notifier_rate_is_shared_by_the_instances(redis_backend: Backend) -> None:
    """Two instances' notifiers taking 12 slots at 5 a second between them: never more than 5 in one second."""
    assert redis_backend.redis_url
    client = Redis.from_url(redis_backend.redis_url)
    try:
        rates = [SharedRate(client, 5, prefix="notify-rate-test"), SharedRate(client, 5, prefix="notify-rate-test")]
        seconds: list[int] = []

        async def take(rate: SharedRate) -> None:
            async with rate:
                seconds.append(int(time.time()))

        await asyncio.gather(*(take(rates[n % 2]) for n in range(12)))
    finally:
        await client.aclose()
    assert max(Counter(seconds).values()) <= 5 and len(set(seconds)) >= 3
