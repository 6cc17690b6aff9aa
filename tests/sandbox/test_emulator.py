"""The Bot API emulator, driven by a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from PIL import Image

from sandbox.emulator import BotApiEmulator
from sandbox.formatting import EntityParseError, parse_html, parse_markdown_v2
from sandbox.users import SandboxError

from .conftest import BOT_ID, TOKEN


def png(width: int, height: int, color: str = "navy") -> bytes:
    buf = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 50):  # some detail so the JPEG is not trivial
        image.putpixel((x, x % height), (255, 255, 0))
    image.save(buf, "PNG")
    return buf.getvalue()


def inline(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]])


def make_router(seen: dict[str, list[Any]]) -> Router:
    """A tiny bot: echo, contact registration, inline buttons, a Stars invoice, photo and document intake."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Share phone", request_contact=True)], [KeyboardButton(text="Menu")]],
            resize_keyboard=True,
        )
        await message.answer("Hello, <b>friend</b>!", parse_mode="HTML", reply_markup=keyboard)

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None and message.from_user is not None
        own = message.contact.user_id == message.from_user.id
        await message.answer(f"phone {message.contact.phone_number} own={own}", reply_markup=ReplyKeyboardRemove())

    @router.message(F.text == "Menu")
    async def menu(message: Message) -> None:
        await message.answer("Menu", reply_markup=inline(("Info", "info"), ("Buy", "buy")))

    @router.callback_query(F.data == "info")
    async def info(callback: CallbackQuery) -> None:
        await callback.answer("Info!", show_alert=True)
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("Info shown", reply_markup=callback.message.reply_markup)

    @router.callback_query(F.data == "buy")
    async def buy(callback: CallbackQuery) -> None:
        await callback.answer()
        assert isinstance(callback.message, Message)
        await callback.message.answer_invoice(
            title="Ticket", description="Concert, row 5", payload="order-1", currency="XTR",
            prices=[LabeledPrice(label="Ticket", amount=100)],
        )  # fmt: skip

    @router.message(Command("decline"))
    async def decline_invoice(message: Message) -> None:
        await message.answer_invoice(
            title="Ticket", description="Sold out already", payload="decline", currency="XTR",
            prices=[LabeledPrice(label="Ticket", amount=50)],
        )  # fmt: skip

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        seen["pre_checkout"].append(query)
        if query.invoice_payload == "decline":
            await query.answer(ok=False, error_message="Sorry, the ticket is sold")
        else:
            await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        seen["payments"].append(message.successful_payment)
        await message.answer("Paid!")

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo
        data = await bot.download(message.photo[-1])
        assert data is not None
        seen["downloads"].append(data.getvalue())
        await message.answer(f"photo {message.photo[-1].width}x{message.photo[-1].height}")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document)
        assert data is not None
        seen["downloads"].append(data.getvalue())
        digest = hashlib.sha256(data.getvalue()).hexdigest()[:12]
        await message.answer(f"doc {message.document.file_name} {message.document.mime_type} {digest}")

    @router.callback_query()
    async def unknown_button(callback: CallbackQuery) -> None:
        seen["forged"].append(callback.data)
        await callback.answer("This button is no longer valid")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return router


@pytest.fixture
async def seen(emu: BotApiEmulator, bot: Bot) -> AsyncIterator[dict[str, list[Any]]]:
    """Runs the test router with long polling; yields what the handlers recorded."""
    record: dict[str, list[Any]] = {"pre_checkout": [], "payments": [], "downloads": [], "forged": []}
    dp = Dispatcher()
    dp.include_router(make_router(record))
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5, close_bot_session=False))
    await emu.wait_polling()
    yield record
    await dp.stop_polling()
    await task
    assert emu.unknown_methods == []


# ---------------------------------------------------------------------------------------------------------------


async def test_get_me_and_unknown_token(emu: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (BOT_ID, True, "stroboscope_test_bot")
    stranger = Bot("42:nope", session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_unknown_method_is_404_and_recorded(emu: BotApiEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{emu.base_url}/bot{TOKEN}/sendHologram", data={"chat_id": "1"}) as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        # method names are case-insensitive, like Telegram's
        async with http.get(f"{emu.base_url}/bot{TOKEN}/GETME") as resp:
            assert (await resp.json())["result"]["id"] == BOT_ID
    assert emu.unknown_methods == ["sendHologram"]


@pytest.mark.serial  # a time limit
async def test_long_polling_order_offsets_limit_and_filters(emu: BotApiEmulator, bot: Bot) -> None:
    ann = emu.user(1001, "Ann")
    for text in ("one", "two", "three"):
        await ann.send(text)
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == 3
    # unconfirmed updates come again; limit cuts the batch
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    # offset confirms everything before it
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert await bot.get_updates(offset=ids[-1] + 1) == []
    assert await bot.get_updates() == []  # confirmed updates are gone for good

    # a long poll returns as soon as an update arrives
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=ids[-1] + 1, timeout=10))
    await emu.wait_polling()
    await ann.send("four")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["four"]
    assert time.monotonic() - started < 2

    # negative offset keeps the last N and forgets the rest
    await ann.send("five")
    got = await bot.get_updates(offset=-1)
    assert [u.message.text for u in got if u.message] == ["five"]

    # allowed_updates applies to updates created afterwards
    await bot.get_updates(offset=got[-1].update_id + 1, allowed_updates=["callback_query"])
    await ann.send("filtered out")
    assert await bot.get_updates() == []
    await bot.get_updates(allowed_updates=[])  # back to the default set
    await ann.send("six")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["six"]


async def test_second_get_updates_terminates_the_first(emu: BotApiEmulator, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await emu.wait_polling()
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert await second == []


async def test_start_reply_keyboard_and_own_contact(emu: BotApiEmulator, seen: dict) -> None:
    ann = emu.user(1001, "Ann", "Smith", username="ann", phone="+79161234567")
    await ann.send("/start")
    hello = await ann.wait_message()
    assert hello.text == "Hello, friend!"
    assert hello.entities == [{"type": "bold", "offset": 7, "length": 6}]
    assert hello.keyboard == [["Share phone"], ["Menu"]]
    assert "reply_markup" not in hello.data  # Telegram returns only inline keyboards in Message
    assert ann.reply_keyboard == [["Share phone"], ["Menu"]]

    await ann.press("Share phone")
    reply = await ann.wait_message()
    assert reply.text == "phone 79161234567 own=True"  # own number arrives without "+"
    assert reply.removes_keyboard and ann.reply_keyboard == []
    with pytest.raises(SandboxError, match="no reply keyboard"):
        await ann.press("Menu")

    await ann.share_contact(phone="+74950000000", user_id=None, first_name="Mom")
    assert (await ann.wait_message()).text == "phone +74950000000 own=False"

    await ann.send("echo me")
    assert (await ann.wait_message()).text == "echo me"
    await ann.expect_nothing()
    assert [m.content for m in emu.messages_in(1001)] == [
        "Hello, friend!",
        "phone 79161234567 own=True",
        "phone +74950000000 own=False",
        "echo me",
    ]


async def test_inline_buttons_callback_answer_edit_and_forged_data(emu: BotApiEmulator, seen: dict) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("/start")
    await ann.wait_message()
    await ann.press("Menu")
    menu = await ann.wait_message()
    assert menu.button_texts == ["Info", "Buy"]

    answer = await ann.click(menu, "Info")
    assert answer is not None and (answer.text, answer.show_alert) == ("Info!", True)
    edited = await ann.wait_message()
    assert (edited.message_id, edited.text, edited.button_texts) == (menu.message_id, "Info shown", ["Info", "Buy"])
    assert edited.edit_date is not None
    assert emu.messages_in(1001)[-1].text == "Info shown"

    answer = await ann.click_raw("order:999:refund", menu)
    assert answer is not None and answer.text == "This button is no longer valid"
    assert seen["forged"] == ["order:999:refund"]

    with pytest.raises(SandboxError, match="0 inline buttons"):
        await ann.click(menu, "Nope")


async def test_send_edit_not_modified_and_missing_messages(emu: BotApiEmulator, bot: Bot) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("/start")
    sent = await bot.send_message(1001, "Price: 100", reply_markup=inline(("Buy", "buy:1")))
    assert sent.reply_markup is not None and sent.from_user is not None and sent.from_user.id == BOT_ID
    assert sent.message_id == 2  # the user's /start was message 1 in this chat

    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new message content"):
        await bot.edit_message_text("Price: 100", chat_id=1001, message_id=sent.message_id,
                                    reply_markup=inline(("Buy", "buy:1")))  # fmt: skip
    # editing without reply_markup removes the keyboard (a change)
    edited = await bot.edit_message_text("Price: 100", chat_id=1001, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=1001, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=1001, message_id=1)  # the user's message
    assert await bot.delete_message(1001, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(1001, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=1001, message_id=sent.message_id)
    assert emu.messages_in(1001) == []
    assert [e.kind for e in ann.events] == ["new", "edit", "delete"]


async def test_chat_not_found_blocked_and_never_started(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999_999, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message("@somebody", "hi")
    stranger = emu.user(1002, "Bob")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(1002, "hi")
    await stranger.send("/start")
    stranger.block_bot()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(1002, "hi")
    stranger.unblock_bot()
    assert (await bot.send_message(1002, "welcome back")).text == "welcome back"


async def test_retry_after_and_injected_failures(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(1001, "Ann").send("/start")
    emu.fail_next("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1001, "hi")
    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in str(caught.value)
    assert (await bot.send_message(1001, "hi")).text == "hi"
    failed, ok = emu.calls_to("sendMessage")
    assert (failed.ok, failed.error_code, ok.ok) == (False, 429, True)


async def test_text_validation(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(1001, "Ann").send("/start")
    with pytest.raises(TelegramBadRequest, match=r"can't parse entities: Can't find end tag corresponding to start"):
        await bot.send_message(1001, "<b>bold", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r'Unsupported start tag "script" at byte offset 0'):
        await bot.send_message(1001, "<script>x</script>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Unsupported start tag \"\" at byte offset 2"):
        await bot.send_message(1001, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(1001, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1001, "x" * 4097)
    assert len((await bot.send_message(1001, "я" * 4096)).text or "") == 4096
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1001, "hi", reply_markup=inline(("Buy", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(1001, "Price 5.00", parse_mode="MarkdownV2")
    sent = await bot.send_message(1001, "<i>a</i> &lt;b&gt; <a href='https://t.me/x'>link</a>", parse_mode="HTML")
    assert sent.text == "a <b> link"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("italic", 0, 1),
        ("text_link", 6, 4),
    ]


async def test_photo_and_document_round_trip(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(1001, "Ann").send("/start")
    original = png(3000, 1500)
    sent = await bot.send_photo(
        1001, BufferedInputFile(original, "barcode.png"), caption="<b>Your ticket</b>", parse_mode="HTML",
        protect_content=True,
    )  # fmt: skip
    assert sent.photo and sent.has_protected_content and sent.caption == "Your ticket"
    sizes = [(p.width, p.height) for p in sent.photo]
    assert sizes[-1] == (2560, 1280) and sizes[0][0] <= 320  # Telegram: thumbnails first, the largest last
    upload = emu.calls_to("sendPhoto")[0].file("photo")
    assert upload is not None and upload.data == original  # what the bot uploaded, byte for byte

    buf = await bot.download(sent.photo[-1])
    assert buf is not None
    jpeg = buf.getvalue()
    assert jpeg[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(jpeg)).size == (2560, 1280)

    again = await bot.send_photo(1001, sent.photo[-1].file_id)  # re-send by file_id
    assert again.photo and again.photo[-1].file_id == sent.photo[-1].file_id

    payload = b"%PDF-1.4 ticket\x00\x01\x02" * 100
    doc = await bot.send_document(1001, BufferedInputFile(payload, "ticket.pdf"))
    assert doc.document is not None
    assert (doc.document.file_name, doc.document.mime_type, doc.document.file_size) == (
        "ticket.pdf",
        "application/pdf",
        len(payload),
    )
    downloaded = await bot.download(doc.document)
    assert downloaded is not None and downloaded.getvalue() == payload
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(1001, doc.document.file_id)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_document(1001, "BQACAgIAAxkBAAIBogAAAAAA")

    big = emu.files.add_document(BOT_ID, b"\0" * (20 * 1024 * 1024 + 1), "big.bin", None)
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(big.file_id)


async def test_user_photo_and_document_reach_the_bot(emu: BotApiEmulator, seen: dict) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send_photo(png(2800, 2100), caption="my ticket")
    reply = await ann.wait_message()
    assert reply.text == "photo 2560x1920"
    assert seen["downloads"][0][:3] == b"\xff\xd8\xff"

    data = b"col1,col2\n1,2\n"
    await ann.send_document(data, "list.csv", "text/csv")
    digest = hashlib.sha256(data).hexdigest()[:12]
    assert (await ann.wait_message()).text == f"doc list.csv text/csv {digest}"
    assert seen["downloads"][1] == data


async def test_invoice_validation(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(1001, "Ann").send("/start")
    stars = [LabeledPrice(label="Ticket", amount=100)]

    async def invoice(**overrides: Any) -> Message:
        args: dict[str, Any] = {
            "chat_id": 1001, "title": "Ticket", "description": "Row 5", "payload": "order-1", "currency": "XTR",
            "prices": stars,
        }  # fmt: skip
        args.update(overrides)
        return await bot.send_invoice(**args)

    sent = await invoice()
    assert sent.invoice is not None
    assert (sent.invoice.currency, sent.invoice.total_amount, sent.invoice.title) == ("XTR", 100, "Ticket")
    with pytest.raises(TelegramBadRequest):
        await invoice(title="T" * 33)
    with pytest.raises(TelegramBadRequest):
        await invoice(description="D" * 256)
    with pytest.raises(TelegramBadRequest):
        await invoice(payload="p" * 129)
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await invoice(prices=[LabeledPrice(label="Ticket", amount=100), LabeledPrice(label="Fee", amount=5)])
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await invoice(provider_token="381764678:TEST:1")
    with pytest.raises(TelegramBadRequest, match="PAYMENT_PROVIDER_INVALID"):
        await invoice(currency="RUB", prices=[LabeledPrice(label="Ticket", amount=150_000)])
    with pytest.raises(TelegramBadRequest, match="there must be at least one price"):
        await invoice(prices=[])
    with pytest.raises(TelegramBadRequest, match="CURRENCY_TOTAL_AMOUNT_INVALID"):
        await invoice(prices=[LabeledPrice(label="Ticket", amount=0)])
    fiat = await invoice(currency="RUB", provider_token="381764678:TEST:1", prices=[
        LabeledPrice(label="Ticket", amount=150_000), LabeledPrice(label="Fee", amount=7_500),
    ])  # fmt: skip
    assert fiat.invoice is not None and fiat.invoice.total_amount == 157_500
    async with aiohttp.ClientSession() as http:  # amounts must be integers
        form = {"chat_id": "1001", "title": "T", "description": "D", "payload": "p", "currency": "XTR",
                "prices": '[{"label": "x", "amount": 1.5}]'}  # fmt: skip
        async with http.post(f"{emu.base_url}/bot{TOKEN}/sendInvoice", data=form) as resp:
            body = await resp.json()
    assert resp.status == 400 and "amount" in body["description"]


async def test_stars_payment_refund_and_redelivery(emu: BotApiEmulator, bot: Bot, seen: dict) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("/start")
    await ann.wait_message()
    await ann.press("Menu")
    menu = await ann.wait_message()
    await ann.click(menu, "Buy")
    invoice = await ann.wait_message(lambda m: m.invoice is not None)
    assert invoice.buttons[0].get("pay") is True

    outcome = await ann.pay(invoice)
    assert outcome.paid and outcome.charge_id and outcome.charge_id.startswith("stx")
    assert (await ann.wait_message()).text == "Paid!"
    query = seen["pre_checkout"][0]
    assert (query.currency, query.total_amount, query.invoice_payload) == ("XTR", 100, "order-1")
    payment = seen["payments"][0]
    assert (payment.currency, payment.total_amount, payment.invoice_payload) == ("XTR", 100, "order-1")
    assert payment.telegram_payment_charge_id == outcome.charge_id
    # the answer came before the payment message: Telegram's order
    methods = [c.method for c in emu.calls]
    assert methods.index("answerPreCheckoutQuery") < methods.index("sendMessage", methods.index("sendInvoice"))
    with pytest.raises(SandboxError, match="already paid"):
        await ann.pay(invoice)

    assert await bot.refund_star_payment(1001, outcome.charge_id) is True
    assert [(r.user_id, r.telegram_payment_charge_id, r.amount) for r in emu.refunds] == [
        (1001, outcome.charge_id, 100)
    ]
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(1001, outcome.charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(1001, "stxUNKNOWN")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query.id, ok=True)  # answered once already

    assert outcome.update is not None
    emu.redeliver(outcome.update)  # Telegram may deliver the same payment twice
    await ann.wait_message(lambda m: m.text == "Paid!")
    assert [p.telegram_payment_charge_id for p in seen["payments"]] == [outcome.charge_id] * 2
    await emu.wait_idle()


async def test_declined_and_unanswered_pre_checkout(emu: BotApiEmulator, bot: Bot, seen: dict) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("/decline")
    invoice = await ann.wait_message()
    outcome = await ann.pay(invoice)
    assert (outcome.status, outcome.error_message) == ("declined", "Sorry, the ticket is sold")
    assert emu.pre_checkout_errors == [(1001, "Sorry, the ticket is sold")]
    await emu.wait_idle()
    assert seen["payments"] == [] and emu.charges == {}

    # a bot that does not answer in time: the payment fails for the person
    emu.pre_checkout_timeout = 0.3
    sent = await bot.send_invoice(1001, "T", "D", "late", currency="XTR", prices=[LabeledPrice(label="x", amount=1)])
    await ann.wait_message(lambda m: m.message_id == sent.message_id)
    seen_before = len(seen["pre_checkout"])
    emu.fail_next("answerPreCheckoutQuery", error_code=500)  # the bot's answer never gets through
    outcome = await ann.pay(sent.message_id)
    assert outcome.status == "timeout"
    assert len(seen["pre_checkout"]) == seen_before + 1
    assert seen["payments"] == []


async def test_commands_are_stored_per_scope_and_language(emu: BotApiEmulator, bot: Bot) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("/start")
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands([BotCommand(command="start", description="Начать")], language_code="ru")
    await bot.set_my_commands([BotCommand(command="sell", description="Sell")], scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Admin")], scope=BotCommandScopeChat(chat_id=1001)
    )
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=1001))] == ["admin"]
    assert [c["command"] for c in emu.commands_for(1001)] == ["admin"]
    assert [c["command"] for c in emu.commands_for(2002)] == ["sell"]
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c["description"] for c in emu.commands_for(2002, "ru")] == ["Начать"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start Now", description="x")])


async def test_copy_forward_chat_action_and_idle(emu: BotApiEmulator, bot: Bot) -> None:
    ann, bob = emu.user(1001, "Ann"), emu.user(1002, "Bob")
    await ann.send("/start")
    await bob.send("/start")
    question = await ann.send("Is the seat near the aisle?")
    copied = await bot.copy_message(1002, 1001, question["message_id"])
    relayed = await bob.wait_message()
    assert relayed.message_id == copied.message_id and relayed.text == "Is the seat near the aisle?"
    assert "forward_origin" not in relayed.data  # a copy does not reveal the sender
    forwarded = await bot.forward_message(1002, 1001, question["message_id"])
    assert forwarded.forward_origin is not None
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(1002, 1001, 999)
    assert await bot.send_chat_action(1001, "upload_photo") is True
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(1001, "dancing")
    assert emu.chat_actions == [(BOT_ID, 1001, "upload_photo")]
    await bob.wait_message()
    updates = await bot.get_updates()  # no dispatcher here: confirm the users' updates by hand
    await bot.get_updates(offset=updates[-1].update_id + 1)
    await bob.expect_nothing(quiet=0.05)


def test_html_and_markdown_parsers() -> None:
    assert parse_html("🏟 <b>x</b>") == ("🏟 x", [{"type": "bold", "offset": 3, "length": 1}])
    text, entities = parse_html('<pre><code class="language-python">print(1)</code></pre>')
    assert text == "print(1)" and entities == [{"type": "pre", "offset": 0, "length": 8, "language": "python"}]
    assert parse_html('<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>')[1] == [
        {"type": "spoiler", "offset": 0, "length": 1},
        {"type": "spoiler", "offset": 1, "length": 1},
    ]
    for markup, error in [
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ]:
        with pytest.raises(EntityParseError) as caught:
            parse_html(markup)
        assert str(caught.value) == error
    assert parse_markdown_v2("*bold* \\. _it_") == (
        "bold . it",
        [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 7, "length": 2}],
    )
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*bold")
