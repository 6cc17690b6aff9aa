"""The real process killed or stopped at the worst moments: a payment killed as the next updates are asked for is
still one sale after the restart; SIGTERM under a handler waiting on the Bot API still lets its message out, and
SIGTERM while the outbox sends a buyer's barcode finishes the delivery or leaves it for the next start (once)."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_sessionmaker
from db.models import Order, OrderStatus, Payout, PayoutStatus, Ticket, TicketStatus
from db.repo import Repo
from sandbox.emulator import BotApiEmulator
from sandbox.users import SimulatedUser
from services.crypto import load_secrets
from services.storage import LocalPhotoStorage
from tests.conftest import Backend
from tests.e2e.market import buy_on, open_feed
from tests.e2e.test_process import start_bot, stop_bot
from tests.factories import TOKEN, BarcodeSample, make_listed_ticket

BARCODE = "Barcode: show it at the entrance."


def intercept(emu: BotApiEmulator, method: str, before: Any) -> None:
    """Run `before(params)` (a coroutine) as the bot's `method` call arrives, then the emulator's own handler."""
    name, original = emu._handlers[method.lower()]

    async def wrapped(bot: Any, params: Any) -> Any:
        await before(params)
        return await original(bot, params)

    emu._handlers[method.lower()] = (name, wrapped)


async def register(person: SimulatedUser) -> None:
    await person.start()
    greeting = await person.wait_new(timeout=30)
    await person.press(greeting.keyboard[0][0])
    await person.wait_new(timeout=30)


async def seller_and_buyer(
    emu: BotApiEmulator, engine: AsyncEngine, tmp_path: Path, ids: tuple[int, int], sample: BarcodeSample, **fields: Any
) -> tuple[SimulatedUser, SimulatedUser, Ticket]:
    """Sveta and Boris registered with the running bot, and a ticket of Sveta's listed in the bot's own storage (with
    the keys the process generated)."""
    seller = emu.user(ids[0], "Sveta", language_code="en", phone=f"+7916000{ids[0]}")
    buyer = emu.user(ids[1], "Boris", language_code="en", phone=f"+7916000{ids[1]}")
    await register(seller)
    await register(buyer)
    secrets = load_secrets(None, None, tmp_path / "data")
    async with create_sessionmaker(engine)() as session, session.begin():
        repo = Repo(session)
        user = await repo.users.by_telegram_id(seller.id)
        assert user is not None
        storage = LocalPhotoStorage(tmp_path / "data" / "photos", secrets)
        ticket = await make_listed_ticket(repo, user, datetime.now(UTC), secrets, storage, sample, **fields)
    return seller, buyer, ticket


async def test_a_payment_killed_as_the_next_updates_are_asked_is_one_sale(
    backend: Backend, tmp_path: Path, qr_samples: list[BarcodeSample]
) -> None:
    database = {"DATABASE_URL": backend.database_url}
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
        process = await start_bot(tmp_path, emu, **database)
        killed = asyncio.Event()

        async def kill_after_payment(params: Any) -> None:
            paid = [u["update_id"] for _, u in emu.updates if "successful_payment" in u.get("message", {})]
            if paid and not killed.is_set() and (params.int("offset", 0) or 0) > paid[-1]:
                process.kill()  # SIGKILL as the request that acknowledges the payment reaches Telegram
                killed.set()

        engine = create_engine(backend.database_url)
        try:
            _seller, buyer, ticket = await seller_and_buyer(
                emu, engine, tmp_path, (7301, 7302), qr_samples[0], price=2000
            )
            invoice = await buy_on(buyer, await open_feed(buyer, timeout=60))  # the first card loads the cities
            intercept(emu, "getUpdates", kill_after_payment)
            assert (await buyer.pay(invoice)).paid
            await asyncio.wait_for(killed.wait(), 60)
            await asyncio.wait_for(process.wait(), 30)
            assert process.returncode == -signal.SIGKILL

            process = await start_bot(tmp_path, emu, **database)
            await emu.wait_idle(timeout=30)
            async with create_sessionmaker(engine)() as session:
                orders = (await session.execute(select(Order).where(Order.ticket_id == ticket.id))).scalars().all()
                assert [(order.status, order.telegram_payment_charge_id is not None) for order in orders] == [
                    (OrderStatus.PAID, True)
                ]
                sold = await session.get(Ticket, ticket.id)
                assert sold is not None and sold.status == TicketStatus.SOLD
                payouts = (await session.execute(select(Payout).where(Payout.order_id == orders[0].id))).scalars()
                assert [payout.status for payout in payouts] == [PayoutStatus.HELD]
        except BaseException:
            process.kill()
            raise
        finally:
            await engine.dispose()
        await stop_bot(process, signal.SIGTERM)


async def test_sigterm_under_a_handler_waiting_on_the_bot_api_lets_its_message_out(tmp_path: Path) -> None:
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
        process = await start_bot(tmp_path, emu)
        in_flight = asyncio.Event()
        try:
            anna = emu.user(7311, "Anna", language_code="en", phone="+79160007311")
            await register(anna)

            async def slow_profile(params: Any) -> None:
                if "+7 *** *** 73 11" in str(params.get("text", "")):
                    in_flight.set()
                    await asyncio.sleep(2)  # Telegram slow to answer while the stop comes

            intercept(emu, "sendMessage", slow_profile)
            await anna.send("/profile")
            await asyncio.wait_for(in_flight.wait(), 30)
        except BaseException:
            process.kill()
            raise
        log = await stop_bot(process, signal.SIGTERM)
        assert "+7 *** *** 73 11" in (await anna.wait_new(timeout=5)).content
        assert "Stopping on SIGTERM" in log


@pytest.mark.parametrize(
    ("how", "code", "hang", "shutdown"),
    [
        ("finished", 0, 3.0, "20"),  # the barcode lands within the shutdown's bound: the row is done before the exit
        ("left", 502, 4.0, "1"),  # the call outlasts the bound and never lands: the row waits for the next start
    ],
)
async def test_sigterm_mid_delivery_leaves_the_buyer_the_barcode_exactly_once(
    backend: Backend, tmp_path: Path, qr_samples: list[BarcodeSample], how: str, code: int, hang: float, shutdown: str
) -> None:
    settings = {"DATABASE_URL": backend.database_url, "SHUTDOWN_TIMEOUT": shutdown, "OUTBOX_LEASE_SECONDS": "5"}
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_test_bot") as emu:
        process = await start_bot(tmp_path, emu, **settings)
        engine = create_engine(backend.database_url)
        try:
            _seller, buyer, _ticket = await seller_and_buyer(emu, engine, tmp_path, (7321, 7322), qr_samples[0])
            invoice = await buy_on(buyer, await open_feed(buyer, timeout=60))
            stopped = asyncio.Event()

            def stop_now(call: Any) -> None:
                if call.params.get("chat_id") == buyer.id and not stopped.is_set():
                    process.send_signal(signal.SIGTERM)  # as the barcode photo is on its way, slow to be answered
                    stopped.set()

            emu.on_call("sendPhoto", stop_now, times=None)
            emu.fail_next("sendPhoto", code, hang=hang, chat_id=buyer.id)
            assert (await buyer.pay(invoice)).paid
            await asyncio.wait_for(stopped.wait(), 60)
        except BaseException:
            process.kill()
            raise
        log = await stop_bot(process, signal.SIGTERM)  # exit 0, no traceback, no ERROR line
        assert "Stopping on SIGTERM" in log
        barcodes = [m for m in emu.messages_in(buyer.id) if m.photo and m.caption == BARCODE]
        assert len(barcodes) == (1 if how == "finished" else 0)
        process = await start_bot(tmp_path, emu, **settings)
        try:
            await buyer.wait_text("Your ticket", timeout=60)
            await emu.wait_idle(quiet=1.0, timeout=30)
            assert [m.caption for m in emu.messages_in(buyer.id) if m.photo].count(BARCODE) == 1
            assert sum("Your ticket" in (m.text or "") for m in emu.messages_in(buyer.id)) == 1
        except BaseException:
            process.kill()
            raise
        await stop_bot(process, signal.SIGTERM)
