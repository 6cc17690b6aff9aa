"""The playground's page and JSON API, driven over HTTP as the page drives it, with the real bot behind the emulator."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bot.i18n import translate
from sandbox.__main__ import DEFAULT_TOKEN, parse_args
from sandbox.emulator import BotApiEmulator
from sandbox.playground import Playground
from services.clock import FrozenClock
from tests.conftest import Backend, make_backend
from tests.e2e.conftest import Harness
from tests.e2e.test_sell import QR_PHOTO, in_moscow
from tests.factories import TOKEN, make_settings

from .browser import Browser, chromium_or_skip


def webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "navy").save(buffer, "WEBP")
    return buffer.getvalue()


API = "/playground/api"


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator(TOKEN)
    Playground(emu)
    async with emu:
        yield emu


@pytest.fixture
async def http(emu: BotApiEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emu.base_url) as session:
        yield session


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend("sqlite", request, tmp_path)


@pytest.fixture
async def with_bot(emu: BotApiEmulator, sqlite_db: Backend, tmp_path: Path) -> AsyncIterator[Harness]:
    """The real bot (on a SQLite file) long-polling the playground's emulator."""
    backend = sqlite_db
    settings = make_settings(
        database_url=backend.database_url, telegram_api_url=emu.base_url, data_dir=tmp_path / "data", polling_timeout=5
    )
    harness = Harness(emu, settings, FrozenClock(datetime.now(UTC)), tmp_path / "unused.log")
    await harness.start()
    yield harness
    await harness.stop()
    assert emu.unknown_methods == []


async def call(http: aiohttp.ClientSession, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    async with http.request(method, API + path, **kwargs) as response:
        body = await response.json()
        assert response.status == status, body
        return body


async def create(http: aiohttp.ClientSession, user_id: int, **fields: Any) -> dict[str, Any]:
    body = {"id": user_id, "first_name": "Anna", "language_code": "en", "phone": f"+7916{user_id:07d}"} | fields
    return await call(http, "POST", "/users", 201, json=body)


def last(chat: dict[str, Any]) -> dict[str, Any]:
    return chat["messages"][-1]


async def test_page_and_its_files_are_served(http: aiohttp.ClientSession) -> None:
    async with http.get("/") as response:
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
    assert "/playground/static/playground.js" in page and "/playground/static/playground.css" in page
    for name, kind in (("playground.js", "javascript"), ("playground.css", "text/css")):
        async with http.get(f"/playground/static/{name}") as response:
            assert response.status == 200 and kind in response.content_type
    async with http.get("/playground/static/..%2Fplayground.py") as response:
        assert response.status in (403, 404)
    async with http.get("/favicon.ico") as response:
        assert response.status == 200 and response.content_type == "image/x-icon"
        icon = Image.open(io.BytesIO(await response.read()))
    assert icon.format == "ICO" and icon.size == (32, 32)


async def test_people_are_created_with_checks(http: aiohttp.ClientSession) -> None:
    anna = await create(http, 4001, last_name="Petrova", language_code="ru")
    assert anna == {"id": 4001, "first_name": "Anna", "last_name": "Petrova", "language_code": "ru",
                    "phone": "+79160004001"}  # fmt: skip
    await create(http, 4002, language_code="", phone="")
    state = await call(http, "GET", "/state")
    assert state["bot"]["username"] == "stroboscope_test_bot" and state["bot"]["polling"] is False
    assert [u["id"] for u in state["users"]] == [4001, 4002]
    assert state["users"][1]["language_code"] is None and state["users"][1]["phone"] is None
    refusals = [
        ({"id": 4001, "first_name": "Twin"}, "exists already"),
        ({"id": 0, "first_name": "Zero"}, "positive"),
        ({"id": "x", "first_name": "Bad"}, "number"),
        ({"id": 4003, "first_name": ""}, "first_name"),
        ({"id": 4003, "first_name": "Lang", "language_code": "klingon"}, "language_code"),
        ({"id": 4003, "first_name": "Phone", "phone": "call me"}, "phone"),
    ]
    for body, says in refusals:
        assert says in (await call(http, "POST", "/users", 400, json=body))["error"]
    assert "JSON" in (await call(http, "POST", "/users", 400, data="nope"))["error"]
    assert len((await call(http, "GET", "/state"))["users"]) == 2
    await call(http, "GET", "/chats/4999", 404)
    await call(http, "POST", "/chats/4001/dance", 404, json={})


async def test_a_person_registers_and_uses_the_bot_through_the_api(
    http: aiohttp.ClientSession, with_bot: Harness
) -> None:
    await create(http, 4101, first_name="Boris")
    assert (await call(http, "GET", "/state"))["bot"]["polling"] is True
    chat = await call(http, "GET", "/chats/4101")
    assert chat["messages"] == [] and chat["keyboard"] is None

    waiting = asyncio.create_task(call(http, "GET", f"/chats/4101?version={chat['version']}&wait=10"))
    started = time.monotonic()
    sent = await call(http, "POST", "/chats/4101/send", json={"text": "/start"})
    assert last(sent["chat"]) | {"date": 0} == {
        "message_id": 1, "outgoing": False, "date": 0, "edited": False, "protected": False, "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }  # fmt: skip
    chat = await waiting  # long polling wakes up when something happens
    assert time.monotonic() - started < 5
    await with_bot.emu.wait_idle()
    chat = await call(http, "GET", "/chats/4101")
    greeting = last(chat)
    assert greeting["outgoing"] and greeting["text"].startswith("Hi! This is Stroboscope")
    assert {"type": "bold", "offset": 12, "length": 11} in greeting["entities"]  # <b>Stroboscope</b>, as entities
    button = chat["keyboard"]["keyboard"][0][0]
    assert button["request_contact"] is True

    other = await call(http, "POST", "/chats/4101/contact", json={"phone": "+79990001122", "user_id": ""})
    assert last(other["chat"])["contact"] == {"phone_number": "+79990001122", "first_name": "Contact", "user_id": None}
    await with_bot.emu.wait_idle()
    chat = await call(http, "GET", "/chats/4101")
    assert last(chat)["text"] == translate("reg-not-own-contact", "en")

    await call(http, "POST", "/chats/4101/press", json={"text": button["text"]})
    await with_bot.emu.wait_idle()
    chat = await call(http, "GET", "/chats/4101")
    assert last(chat)["text"] == translate("reg-done", "en", name="Boris")
    assert chat["keyboard"]["keyboard"][1][1]["text"] == translate("menu-profile", "en")

    await call(http, "POST", "/chats/4101/press", json={"text": translate("menu-profile", "en")})
    await with_bot.emu.wait_idle()
    card = last(await call(http, "GET", "/chats/4101"))
    assert "+7 *** *** 41 01" in card["text"]
    rename = card["inline_keyboard"][0][0]
    forged = await call(http, "POST", "/chats/4101/click", 400, json={"message_id": card["message_id"], "data": "x:y"})
    assert "0 inline buttons match" in forged["error"]  # the page presses only the buttons it shows
    clicked = await call(
        http, "POST", "/chats/4101/click", json={"message_id": card["message_id"], "data": rename["callback_data"]}
    )
    assert "answer" in clicked
    await call(http, "POST", "/chats/4101/send", json={"text": "Boris <i>Godunov</i>"})
    await with_bot.emu.wait_idle()
    messages = (await call(http, "GET", "/chats/4101"))["messages"]
    assert messages[-2]["text"] == translate("profile-name-saved", "en")
    assert "Name: Boris <i>Godunov</i>\n" in messages[-1]["text"]

    bad = await call(http, "POST", "/chats/4101/press", status=400, json={"text": "No such button"})
    assert "no button" in bad["error"]
    await call(http, "POST", "/chats/4101/click", status=400, json={"message_id": 999, "data": "x"})
    await call(http, "POST", "/chats/4101/send", status=400, json={"text": "   "})


async def test_photos_documents_and_invoices(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    await create(http, 4201)
    form = aiohttp.FormData()
    form.add_field("file", webp(), filename="ticket.webp", content_type="image/webp")
    form.add_field("caption", "my ticket")
    photo = last((await call(http, "POST", "/chats/4201/photo", data=form))["chat"])
    assert photo["text"] == "my ticket"
    async with http.get(photo["photo"]) as response:
        assert response.status == 200 and response.content_type == "image/jpeg"
        assert (await response.read())[:2] == b"\xff\xd8"
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 ticket", filename="ticket.pdf", content_type="application/pdf")
    document = last((await call(http, "POST", "/chats/4201/document", data=form))["chat"])
    assert document["document"]["name"] == "ticket.pdf"
    async with http.get(document["document"]["url"]) as response:
        assert await response.read() == b"%PDF-1.4 ticket"
    form = aiohttp.FormData()
    form.add_field("file", b"not an image", filename="x.jpg", content_type="image/jpeg")
    assert "could not send" in (await call(http, "POST", "/chats/4201/photo", 400, data=form))["error"]
    await call(http, "POST", "/chats/4201/photo", 400, json={})
    await call(http, "GET", "/files/nope", 404)

    # the bot (here: the test, in its place) sends a Stars invoice and confirms the pre-checkout query
    invoice = await emu.call(
        "sendInvoice", chat_id=4201, title="Ticket", description="Splean, Moscow", payload="order-1",
        currency="XTR", prices='[{"label": "Ticket", "amount": 250}]',
    )  # fmt: skip
    chat = await call(http, "GET", "/chats/4201")
    assert last(chat)["invoice"] == {
        "title": "Ticket", "description": "Splean, Moscow", "currency": "XTR", "total_amount": 250, "paid": False,
    }  # fmt: skip
    assert last(chat)["inline_keyboard"] == [[{"text": "Pay ⭐️250", "pay": True}]]

    async def confirm() -> None:
        while not any("pre_checkout_query" in update for update in emu.bot.pending):
            await emu._activity.wait(1)
        query = next(u for u in emu.bot.pending if "pre_checkout_query" in u)["pre_checkout_query"]
        await emu.call("answerPreCheckoutQuery", pre_checkout_query_id=query["id"], ok=True)

    confirming = asyncio.create_task(confirm())
    paid = await call(http, "POST", "/chats/4201/pay", json={"message_id": invoice["message_id"]})
    await confirming
    assert paid["payment"] == {"status": "paid", "error_message": None}
    messages = paid["chat"]["messages"]
    assert messages[-1]["payment"] == {"currency": "XTR", "total_amount": 250}
    assert next(m for m in messages if "invoice" in m)["invoice"]["paid"] is True
    again = await call(http, "POST", "/chats/4201/pay", 400, json={"message_id": invoice["message_id"]})
    assert "already paid" in again["error"]


def test_the_command_line_defaults_to_the_readme_token() -> None:
    args = parse_args(["--port", "9999"])
    assert (args.port, args.host) == (9999, "127.0.0.1")
    assert args.token in (DEFAULT_TOKEN, __import__("os").environ.get("BOT_TOKEN"))
    assert make_settings(bot_token=DEFAULT_TOKEN).bot_token.get_secret_value() == DEFAULT_TOKEN


async def test_in_a_real_browser_sell_buy_and_see_the_barcode(with_bot: Harness, tmp_path: Path) -> None:
    """Chromium headless runs the page: a seller registers and lists a real barcode photo at desktop width, a buyer
    registers, buys and pays at phone width and sees the barcode; screenshots of both widths in ``tmp_path``."""
    binary = chromium_or_skip()
    harness = with_bot
    shots = tmp_path / "shots"
    shots.mkdir()

    async def step() -> None:
        harness.clock.move(timedelta(seconds=1))  # a person's pace: the bot's throttling runs on this clock

    async with Browser(binary) as page:

        def has(text: str) -> str:
            return f"document.getElementById('messages').textContent.includes({json.dumps(text)})"

        async def press(selector: str, text: str) -> None:
            await step()
            found = (
                f"[...document.querySelectorAll({json.dumps(selector)})]"
                f".filter((b) => b.textContent.includes({json.dumps(text)}) && !b.disabled).at(-1)"
            )
            await page.wait(f"!!{found}")
            await page.js(f"{found}.click(), true")

        async def say(text: str, then: str, timeout: float = 15.0) -> None:  # noqa: ASYNC109
            await step()
            await page.js(
                f"document.getElementById('text').value = {json.dumps(text)};"
                "document.getElementById('composer').requestSubmit(), true"
            )
            await page.wait(has(then), timeout)

        async def register() -> None:
            await page.wait("!!document.getElementById('empty-hint')")
            assert "/start" in await page.js("document.getElementById('empty-hint').textContent")
            await press("#empty-hint button", "/start")
            await press("#keyboard button", "")  # the share-contact button
            await page.wait("document.querySelectorAll('#keyboard .row').length >= 2")

        await page.open(emu_url(harness), 1280, 800)
        first_id = await page.js("document.querySelector('#new-user [name=id]').value")
        await page.js("document.querySelector('#new-user [name=language_code]').value = 'en', true")
        await press("#new-user button", "Create")
        await register()
        assert await page.js("document.querySelector('#new-user [name=id]').value") not in ("", first_id)

        await press("#keyboard button", "Sell")
        await page.wait(has("Step 1 of 9"))
        await press(".inline-kb button", "Concert")
        await page.wait(has("Step 2 of 9"))
        await say("Splean", "Step 3 of 9")
        await say("Mosc", "Choose the city", timeout=60)  # the city directory loads on first use
        await press(".inline-kb button", "Moscow, Russia")
        await page.wait(has("Step 4 of 9"))
        await say("Crocus City Hall", "Step 5 of 9")
        await say(in_moscow(harness, 30), "Step 6 of 9")
        await say("Section A, row 5, seat 12", "Step 7 of 9")
        await say("2000", "Step 8 of 9")
        await say("2200", "Step 9 of 9")
        await step()
        await page.set_file("#photo", QR_PHOTO)
        await page.wait(has("Check your listing"), timeout=30)
        await press(".inline-kb button", "Publish")
        await page.wait(has("Published"))
        await page.screenshot(shots / "seller-1280.png")
        await page.resize(390, 844)
        await page.screenshot(shots / "seller-390.png")

        await page.js("document.querySelector('#new-user [name=language_code]').value = 'en', true")
        await press("#new-user button", "Create")
        await register()
        await say("/feed", "Tickets on sale")
        await press(".inline-kb button", "Buy 1")
        await press(".inline-kb button", "Pay")
        await page.wait(has("Paid"), timeout=30)
        delivered = "[...document.querySelectorAll('#messages .msg.out img')].filter((i) => i.naturalWidth > 0)"
        await page.wait(f"{delivered}.length >= 1", timeout=30)
        await harness.emu.wait_idle()
        await asyncio.sleep(0.5)  # the last long poll redraws the chat
        fits = (
            "document.documentElement.scrollWidth <= innerWidth && [...document.querySelectorAll("
            "'#keyboard button, .inline-kb button, #composer button')].every((b) => "
            "b.getBoundingClientRect().right <= innerWidth + 1 && b.getBoundingClientRect().height < 90)"
        )
        assert await page.js(fits), "the phone layout overflows or squeezes buttons"
        bottom = "document.getElementById('messages').scrollTop = 1e9, true"
        await page.js(bottom)
        await page.screenshot(shots / "buyer-390.png")
        await page.resize(1280, 800)
        await page.js(bottom)
        await page.screenshot(shots / "buyer-1280.png")
        assert await page.js(fits)

    buyer = next(p for p in harness.emu.users() if p.id != harness.emu.users()[0].id)
    assert any(m.photo for m in buyer.messages), "the buyer got no barcode photo"
    print(f"screenshots: {shots}")


def emu_url(harness: Harness) -> str:
    return harness.emu.base_url + "/"
