"""Flood limits counted per chat and overall, injected faults and call hooks, the Stars ledger, PDF documents."""

from __future__ import annotations

import asyncio
import io

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import BufferedInputFile
from PIL import Image

from sandbox.emulator import BotApiEmulator
from sandbox.params import ApiCall
from sandbox.state import InvoiceInfo

from .conftest import TOKEN


async def started(emu: BotApiEmulator, *ids: int) -> None:
    for user_id in ids:
        await emu.user(user_id, f"U{user_id}").send("/start")


async def test_strict_mode_records_a_chat_burst_and_fails_at_teardown(emu: BotApiEmulator, bot: Bot) -> None:
    emu.flood_limits("strict")
    await started(emu, 1001)
    for i in range(5):
        await bot.send_message(1001, f"n{i}")  # strict mode lets them through, and counts
    assert len(emu.messages_in(1001)) == 5
    assert [(v.limit, v.chat_id) for v in emu.flood.violations] == [("chat", 1001), ("chat", 1001)]
    with pytest.raises(AssertionError, match="2 Telegram flood limit violations"):
        emu.flood.assert_kept()
    emu.flood.violations.clear()  # this test read them; the fixture's teardown check passes


async def test_strict_mode_passes_a_paced_sender(emu: BotApiEmulator, bot: Bot) -> None:
    emu.flood_limits("strict")
    emu.flood.per_chat_rate = 20.0  # scaled so the test is quick: 20 a second, burst 3
    await started(emu, 1001)
    for i in range(6):
        await bot.send_message(1001, f"n{i}")
        await asyncio.sleep(0.06)
    emu.flood.assert_kept()


async def test_enforce_mode_answers_429_with_retry_after(emu: BotApiEmulator, bot: Bot) -> None:
    emu.flood_limits("enforce")
    await started(emu, 1001)
    for i in range(3):
        await bot.send_message(1001, f"n{i}")
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(1001, "one too many")
    assert refused.value.retry_after == 1
    assert len(emu.messages_in(1001)) == 3  # refused means not sent
    await asyncio.sleep(1.05)
    await bot.send_message(1001, "after the wait")


async def test_the_overall_limit_across_chats(emu: BotApiEmulator, bot: Bot) -> None:
    emu.flood_limits("enforce")
    emu.flood.global_rate, emu.flood.global_burst = 1.0, 5.0  # scaled down from 30 a second, so timing can't blur it
    ids = list(range(2001, 2007))
    await started(emu, *ids)
    for user_id in ids[:5]:
        await bot.send_message(user_id, "news")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ids[5], "news")
    assert [v.limit for v in emu.flood.violations] == ["global"]


async def test_injected_errors_then_normal_service(emu: BotApiEmulator, bot: Bot) -> None:
    await started(emu, 1001)
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), "navy").save(photo, "PNG")
    upload = BufferedInputFile(photo.getvalue(), "p.png")
    emu.fail_next("sendPhoto", 502, times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_photo(1001, upload)
    await bot.send_photo(1001, upload)
    assert [c.error_code for c in emu.calls_to("sendPhoto")] == [502, 502, None]
    assert len(emu.messages_in(1001)) == 1


async def test_a_hang_that_still_sends(emu: BotApiEmulator) -> None:
    await started(emu, 1001)
    impatient = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url), timeout=0.3))
    try:
        emu.fail_next("sendMessage", 0, hang=0.8)
        with pytest.raises(TelegramNetworkError):
            await impatient.send_message(1001, "slow")
        assert (await emu.user(1001).wait_message(timeout=3)).text == "slow"  # the bot gave up, Telegram did not
    finally:
        await impatient.session.close()


async def test_on_call_runs_a_callback_before_the_method(emu: BotApiEmulator, bot: Bot) -> None:
    await started(emu, 1001)
    seen: list[str] = []

    async def kill(call: ApiCall) -> None:
        seen.append(f"{call.method} {call.params['text']} with {len(emu.messages_in(1001))} sent")

    emu.on_call("sendMessage", kill)
    await bot.send_message(1001, "first")
    await bot.send_message(1001, "second")
    assert seen == ["sendMessage first with 0 sent"]


async def test_star_transactions_page_and_follow_refunds(emu: BotApiEmulator, bot: Bot) -> None:
    await started(emu, 1001, 1002)
    charges = []
    for i, user_id in enumerate((1001, 1002, 1001)):
        info = InvoiceInfo("T", "D", f"order:{i}", "", "XTR", [{"label": "x", "amount": 10 + i}], 10 + i, "")
        charges.append(emu._create_charge(emu.bot, user_id, info))
        charges[-1].date += i  # distinct seconds, as real payments have
    await bot.refund_star_payment(1002, charges[1].charge_id)
    first = await bot.get_star_transactions(offset=0, limit=2)
    rest = await bot.get_star_transactions(offset=2, limit=2)
    page = first.transactions + rest.transactions
    assert len(page) == 4 and len(rest.transactions) == 2
    incoming = [t for t in page if t.source is not None]
    assert sorted(t.source.invoice_payload for t in incoming) == ["order:0", "order:1", "order:2"]
    assert {t.source.type for t in incoming} == {"user"} and {t.source.transaction_type for t in incoming} == {
        "invoice_payment"
    }
    refund = next(t for t in page if t.receiver is not None)
    assert (refund.id, refund.amount, refund.receiver.user.id) == (charges[1].charge_id, 11, 1002)
    assert emu.charges[charges[1].charge_id].refunded


async def test_a_pdf_document_reaches_the_user(emu: BotApiEmulator, bot: Bot) -> None:
    await started(emu, 1001)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    sent = await bot.send_document(1001, BufferedInputFile(pdf, "ticket.pdf"), caption="Your ticket")
    message = (await emu.user(1001).wait_message()).data
    assert message["document"]["file_name"] == "ticket.pdf" and message["caption"] == "Your ticket"
    assert message["document"]["mime_type"] == "application/pdf"
    assert sent.document is not None
    downloaded = await bot.download(sent.document.file_id)
    assert downloaded is not None and downloaded.read() == pdf
