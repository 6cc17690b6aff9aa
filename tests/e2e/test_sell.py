"""The sell wizard end to end, through the emulator, with real barcode photos from the corpus."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

from db.models import FsmRecord, Ticket, TicketStatus, TicketStatusChange
from db.repo import Repo
from handlers.sell.callbacks import SellCD
from sandbox.messages import BotMessage
from sandbox.users import SimulatedUser
from services.barcodes import render_barcode_png
from tests.e2e.conftest import Harness
from tests.factories import BARCODE_CORPUS

QR_PHOTO = BARCODE_CORPUS / "qr" / "qrcode-1_1.webp"  # a phone photo of a QR code
QR_PHOTO_AGAIN = BARCODE_CORPUS / "qr" / "qrcode-1_8.webp"  # another photo of the same code, from elsewhere
OTHER_QR = BARCODE_CORPUS / "qr" / "qrcode-2_#199.webp"


def blurred(path: Path) -> bytes:
    """The photo shot out of focus: no barcode can be read on it."""
    output = io.BytesIO()
    with Image.open(path) as image:
        image.convert("RGB").filter(ImageFilter.GaussianBlur(6)).save(output, "JPEG", quality=85)
    return output.getvalue()


def text_of(path: Path) -> str:
    return path.with_suffix(".txt").read_text(encoding="utf-8")


def in_moscow(harness: Harness, days: int, hour: str = "19:00") -> str:
    local = (harness.clock.now() + timedelta(days=days)).astimezone(ZoneInfo("Europe/Moscow"))
    return f"{local:%d.%m.%Y} {hour}"


class Seller:
    """A person at the keyboard: a second passes before each action (the bot's throttling runs on the frozen
    clock, so a person who never pauses would be slowed down)."""

    def __init__(self, harness: Harness, person: SimulatedUser) -> None:
        self.harness = harness
        self.person = person

    def _pause(self) -> None:
        self.harness.clock.move(timedelta(seconds=1))

    async def send(self, text: str) -> None:
        self._pause()
        await self.person.send(text)

    async def click(self, message: BotMessage, text: str | None = None, data: str | None = None) -> None:
        self._pause()
        await self.person.click(message, text, data)

    async def send_photo(self, photo: Path | bytes) -> None:
        self._pause()
        await self.person.send_photo(photo)

    async def wait_text(self, contains: str) -> BotMessage:
        return await self.person.wait_text(contains)


async def start_wizard(seller: Seller) -> BotMessage:
    await seller.send("💸 Sell a ticket")
    return await seller.wait_text("Step 1 of 9")


async def fill_until_photo(
    seller: Seller,
    *,
    name: str = "Splean",
    face: str = "2000",
    price: str = "2200",
) -> BotMessage:
    """Steps 1-8 with valid answers; returns the photo prompt."""
    person, harness = seller, seller.harness
    ask = await start_wizard(seller)
    await person.click(ask, "Concert")
    await person.wait_text("Step 2 of 9")
    await person.send(name)
    await person.wait_text("Step 3 of 9")
    await person.send("Mosc")
    pick = await person.wait_text("Choose the city")
    await person.click(pick, "Moscow, Russia")
    await person.wait_text("Step 4 of 9")
    await person.send("Crocus City Hall")
    await person.wait_text("Step 5 of 9")
    await person.send(in_moscow(harness, 30))
    await person.wait_text("Got it")
    await person.wait_text("Step 6 of 9")
    await person.send("Section A, row 5, seat 12")
    await person.wait_text("Step 7 of 9")
    await person.send(face)
    await person.wait_text("Step 8 of 9")
    await person.send(price)
    return await person.wait_text("Step 9 of 9")


async def list_ticket(person: Seller, photo: Path | bytes = QR_PHOTO, **fields: str) -> None:
    await fill_until_photo(person, **fields)
    await person.send_photo(photo)
    summary = await person.wait_text("Check your listing")
    await person.click(summary, "Publish")
    await person.wait_text("🎉 Published")


async def tickets(harness: Harness) -> list[Ticket]:
    assert harness.app is not None
    async with harness.app.sessionmaker() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def test_full_listing_then_my_tickets(harness: Harness) -> None:
    anna = Seller(harness, harness.person(6001, "Anna"))
    await harness.register(anna.person)
    await fill_until_photo(anna)
    await anna.send_photo(QR_PHOTO)
    summary = await anna.wait_text("Check your listing")
    assert "Splean" in summary.content and "Moscow" in summary.content and "Crocus City Hall" in summary.content
    assert "19:00" in summary.content and "Section A, row 5, seat 12" in summary.content
    assert "2 200" in summary.content.replace("\u00a0", " ") or "2,200" in summary.content
    assert "QR Code …" + text_of(QR_PHOTO)[-4:] in summary.content
    assert text_of(QR_PHOTO) not in summary.content
    await anna.click(summary, "Publish")
    edited = await anna.person.wait_message(lambda m: m.message_id == summary.message_id)  # no "Publish it?"
    assert "Published" in edited.content and "Publish it?" not in edited.content and not edited.buttons
    assert "Section A, row 5, seat 12" in edited.content
    await anna.wait_text("🎉 Published")

    [ticket] = await tickets(harness)
    app = harness.app
    assert app is not None
    assert ticket.status == TicketStatus.ACTIVE and ticket.price == 2200 and ticket.face_value == 2000
    assert ticket.city_id == 524901 and ticket.city_tz == "Europe/Moscow" and ticket.seat_row == "5"
    assert app.secrets.open_text(ticket.barcode_ciphertext) == text_of(QR_PHOTO)
    assert ticket.barcode_format == "QRCode" and ticket.barcode_fingerprint and len(ticket.photo_phash) == 16
    assert (await app.photo_storage.get(ticket.photo_key))[:2] == b"\xff\xd8"  # the normalised JPEG
    local = ticket.event_at.astimezone(ZoneInfo("Europe/Moscow"))
    assert (local.hour, local.minute) == (19, 0)
    async with app.sessionmaker() as session:
        history = (await session.execute(select(TicketStatusChange.status, TicketStatusChange.actor))).all()
    assert history == [(TicketStatus.ACTIVE, "seller")]

    await anna.send("🗂 My tickets")
    mine = await anna.wait_text("My tickets")
    assert "Splean" in mine.content and "on sale" in mine.content


async def summary_of(seller: Seller, photo: Path | bytes = QR_PHOTO, **fields: str) -> BotMessage:
    await fill_until_photo(seller, **fields)
    await seller.send_photo(photo)
    return await seller.wait_text("Check your listing")


async def registered(harness: Harness, user_id: int, name: str, language: str = "en") -> Seller:
    seller = Seller(harness, harness.person(user_id, name, language=language))
    await harness.register(seller.person)
    return seller


async def test_same_barcode_published_at_once_by_two_sellers_and_a_double_click(harness: Harness) -> None:
    """Anna double-clicks Publish while Boris publishes the same barcode: exactly one listing."""
    anna = await registered(harness, 6101, "Anna")
    boris = await registered(harness, 6102, "Boris")
    anna_summary = await summary_of(anna)
    boris_summary = await summary_of(boris)
    await asyncio.gather(
        anna.person.click(anna_summary, "Publish"),
        anna.person.click(anna_summary, "Publish"),
        boris.person.click(boris_summary, "Publish"),
    )
    await harness.emu.wait_idle()
    listed = await tickets(harness)
    assert len(listed) == 1
    winner, loser = (anna, boris) if listed[0].seller_id == (await user_id_of(harness, anna)) else (boris, anna)
    assert sum("🎉 Published" in m.content for m in winner.person.messages) == 1
    refusals = [m.content for m in loser.person.messages if "already listed" in m.content or "almost" in m.content]
    assert refusals and not any("Published" in m.content for m in loser.person.messages)


async def user_id_of(harness: Harness, seller: Seller) -> int:
    assert harness.app is not None
    async with harness.app.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(seller.person.id)
    assert user is not None
    return user.id


async def test_date_and_price_refusals_change_nothing(harness_sqlite: Harness) -> None:
    anna = await registered(harness_sqlite, 6201, "Anna")
    ask = await start_wizard(anna)
    await anna.click(ask, "Concert")
    await anna.wait_text("Step 2 of 9")
    await anna.send("Splean")
    await anna.wait_text("Step 3 of 9")
    await anna.send("Qqqzzx")
    await anna.wait_text("I know no city")
    await anna.send("Санкт-Пет")
    pick = await anna.wait_text("Choose the city")
    await anna.click(pick, "Saint Petersburg, Russia")
    await anna.wait_text("Step 4 of 9")
    await anna.send("A")
    await anna.wait_text("too short")
    await anna.send("Ледовый дворец")
    await anna.wait_text("Step 5 of 9")
    for text, refusal in (
        ("next friday-ish", "couldn't read that date"),
        ("31.02 19:00", "no such date"),
        ("25.12", "no time"),
        (in_moscow(harness_sqlite, -2), "already passed"),
        (in_moscow(harness_sqlite, 400), "too far ahead"),
    ):
        await anna.send(text)
        await anna.wait_text(refusal)
    await anna.send(in_moscow(harness_sqlite, 10, "20:30"))
    understood = await anna.wait_text("Got it")
    assert "20:30" in understood.content and "Saint Petersburg" in understood.content
    await anna.wait_text("Step 6 of 9")
    await anna.send("where ever")
    await anna.wait_text("couldn't read the seat")
    seat_prompt = [m for m in anna.person.messages if "Step 6 of 9" in m.content][-1]
    await anna.click(seat_prompt, "Skip")
    await anna.wait_text("Step 7 of 9")
    await anna.send("two thousand")
    await anna.wait_text("whole number of roubles")
    await anna.send("2000,50")
    await anna.wait_text("without kopecks")
    await anna.send("2 000 ₽")
    await anna.wait_text("Step 8 of 9")
    await anna.send("2500")
    over = await anna.wait_text("above the cap")
    assert "2,400" in over.content  # 2 000 + 20 %
    await anna.send("0")
    await anna.wait_text("more than zero")
    await anna.send("2400")
    await anna.wait_text("Step 9 of 9")
    assert await tickets(harness_sqlite) == []
    assert harness_sqlite.app is not None
    state = await fsm_state(harness_sqlite, anna)
    assert state == "SellWizard:photo"


async def fsm_state(harness: Harness, seller: Seller) -> str | None:
    assert harness.app is not None
    async with harness.app.sessionmaker() as session:
        return (
            await session.execute(select(FsmRecord.state).where(FsmRecord.key.like(f"%:{seller.person.id}:%")))
        ).scalar_one_or_none()


def zip_named_png() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ticket.png", b"\x89PNG not really" * 100)
    return buffer.getvalue()


async def test_photo_refusals(harness_sqlite: Harness) -> None:
    anna = await registered(harness_sqlite, 6301, "Anna")
    await fill_until_photo(anna)
    await anna.send("here it is")
    await anna.wait_text("send a photo of the ticket's barcode")
    await anna.send_photo(blurred(QR_PHOTO))
    tip = await anna.wait_text("can't find a barcode")
    assert "Tip" in tip.content
    downloads = len(harness_sqlite.emu.calls_to("getFile"))
    anna._pause()
    await anna.person.send_document(b"\xff\xd8\xff" + b"\0" * (30 * 1024 * 1024), "ticket.jpg", "image/jpeg")
    await anna.wait_text("too large")
    assert len(harness_sqlite.emu.calls_to("getFile")) == downloads  # refused on the declared size alone
    anna._pause()
    await anna.person.send_document(zip_named_png(), "ticket.png", "image/png")
    await anna.wait_text("isn't a Wallet pass")  # told apart by its content: a zip, not an image
    anna._pause()
    await anna.person.send_document(b"%PDF-1.4 ...", "ticket.pdf", "application/pdf")
    await anna.wait_text("can't open this PDF")
    anna._pause()
    await anna.person.send_document(QR_PHOTO.read_bytes(), "ticket.webp", "image/webp")  # an image as a file: fine
    await anna.wait_text("Check your listing")
    assert await tickets(harness_sqlite) == []


def ticket_layout(text: str, *, scale: float = 1.0, crop: int = 0) -> bytes:
    """A ticket as a photo: a printed layout with a QR code of `text`; `scale`/`crop` as another shot would."""
    image = Image.new("RGB", (1000, 600), (250, 240, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1000, 120), fill=(180, 30, 60))
    draw.rectangle((40, 160, 560, 200), fill=(40, 40, 40))
    draw.rectangle((40, 230, 460, 260), fill=(90, 90, 90))
    draw.ellipse((60, 400, 220, 560), fill=(30, 120, 200))
    code = Image.open(io.BytesIO(render_barcode_png("QRCode", text))).convert("RGB").resize((300, 300))
    image.paste(code, (640, 200))
    if crop:
        image = image.crop((crop, crop, image.width - crop, image.height - crop))
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=80)
    return output.getvalue()


async def test_duplicate_barcode_and_near_duplicate_photo_of_another_seller(harness_sqlite: Harness) -> None:
    anna = await registered(harness_sqlite, 6401, "Anna")
    boris = await registered(harness_sqlite, 6402, "Boris")
    await list_ticket(anna)
    await list_ticket(anna, ticket_layout("ANNA-TICKET-0001"), name="Swan Lake")
    # Another photo of Anna's first barcode: the barcode is already listed.
    await fill_until_photo(boris)
    await boris.send_photo(QR_PHOTO_AGAIN)
    await boris.wait_text("already listed by someone else")
    # Anna's second ticket photographed again with its barcode swapped for another one: a near-duplicate photo.
    await boris.send_photo(ticket_layout("BORIS-TICKET-0002", scale=0.9, crop=6))
    await boris.wait_text("almost the same as a ticket another seller listed")
    assert len(await tickets(harness_sqlite)) == 2
    # A photo of his own ticket goes through.
    await boris.send_photo(OTHER_QR)
    await boris.wait_text("Check your listing")


async def test_relisting_own_withdrawn_ticket(harness_sqlite: Harness) -> None:
    anna = await registered(harness_sqlite, 6501, "Anna")
    await list_ticket(anna)
    await fill_until_photo(anna)
    await anna.send_photo(QR_PHOTO)
    await anna.wait_text("already have this ticket on sale")
    await anna.send("🗂 My tickets")
    mine = await anna.wait_text("My tickets")
    await anna.click(mine, "Withdraw 1")
    confirm = await anna.wait_text("Withdraw")
    await anna.click(confirm, "Yes, withdraw")
    await anna.wait_text("Nothing on sale")
    await list_ticket(anna)
    old, new = await tickets(harness_sqlite)
    assert old.status == TicketStatus.WITHDRAWN and old.barcode_fingerprint is None
    assert new.status == TicketStatus.ACTIVE and new.barcode_fingerprint


async def answer(seller: Seller, step: int, prompt: BotMessage) -> None:
    """A valid answer to step `step` (1-9) of the wizard, whose prompt is `prompt`."""
    if step == 1:
        await seller.click(prompt, "Concert")
    elif step == 3:
        await seller.send("Mosc")
        await seller.click(await seller.wait_text("Choose the city"), "Moscow, Russia")
    elif step == 9:
        await seller.send_photo(QR_PHOTO)
    else:
        texts = {2: "Splean", 4: "Crocus City Hall", 5: in_moscow(seller.harness, 30), 6: "5/12", 7: "2000", 8: "2100"}
        await seller.send(texts[step])


def prompt_text(step: int) -> str:
    return f"Step {step} of 9" if step <= 9 else "Check your listing"


async def test_back_at_every_step_then_edit(harness_sqlite: Harness) -> None:
    anna = await registered(harness_sqlite, 6601, "Anna")
    await answer(anna, 1, await start_wizard(anna))
    for step in range(2, 11):
        prompt = await anna.wait_text(prompt_text(step))
        await anna.click(prompt, "Back")
        back = await anna.wait_text(prompt_text(step - 1))
        await answer(anna, step - 1, back)
        again = await anna.wait_text(prompt_text(step))
        if step <= 9:
            await answer(anna, step, again)
    summary = [m for m in anna.person.messages if "Check your listing" in m.content][-1]
    # Edit the city: the date is asked again, in the new city's time zone; then straight back to the summary.
    await anna.click(summary, "Edit")
    await anna.click(await anna.wait_text("What do you want to change?"), "City")
    await anna.send("Екатеринб")
    await anna.click(await anna.wait_text("Choose the city"), "Yekaterinburg, Russia")
    await anna.wait_text("Step 5 of 9")
    await anna.send(in_moscow(harness_sqlite, 20, "18:00"))
    summary = await anna.wait_text("Check your listing")
    assert "Yekaterinburg" in summary.content and "18:00" in summary.content
    await anna.click(summary, "Publish")
    await anna.wait_text("🎉 Published")
    [ticket] = await tickets(harness_sqlite)
    assert (ticket.city_name, ticket.city_tz, ticket.price) == ("Yekaterinburg", "Asia/Yekaterinburg", 2100)
    assert ticket.event_at.astimezone(ZoneInfo("Asia/Yekaterinburg")).hour == 18
    assert len(harness_sqlite.emu.calls_to("getFile")) == 2  # the photo was sent twice (Back from the summary)


async def test_cancel_at_every_step(harness_sqlite: Harness) -> None:
    anna = await registered(harness_sqlite, 6701, "Anna")
    for cancel_at in range(1, 11):
        prompt = await start_wizard(anna)
        for step in range(1, cancel_at):
            await answer(anna, step, prompt)
            prompt = await anna.wait_text(prompt_text(step + 1))
        await anna.click(prompt, "Cancel")
        await anna.wait_text("Listing cancelled")
        assert await fsm_state(harness_sqlite, anna) is None, cancel_at
    assert await tickets(harness_sqlite) == []
    stale = await anna.person.click_raw(SellCD(action="back", step="summary").pack(), prompt)  # a cancelled wizard
    assert stale is not None and "out of date" in (stale.text or "")
    assert harness_sqlite.app is not None
    photos = [path for path in (harness_sqlite.app.settings.photo_dir).rglob("*") if path.is_file()]
    assert photos == []  # the cancelled wizard's photo was deleted


async def test_restart_mid_wizard(harness_all: Harness) -> None:
    """The draft, with its sealed barcode, lives in the FSM storage (database or Redis): a restart loses nothing."""
    anna = await registered(harness_all, 6801, "Anna", language="ru")
    prompt = await start_wizard_ru(anna)
    await anna.click(prompt, "Концерт")
    await anna.wait_text("Шаг 2 из 9")
    await anna.send("Сплин")
    await anna.wait_text("Шаг 3 из 9")
    await harness_all.restart()
    await anna.send("Моск")
    await anna.click(await anna.wait_text("Выберите город"), "Москва, Россия")
    await anna.wait_text("Шаг 4 из 9")
    for text, next_prompt in (
        ("Крокус Сити Холл", "Шаг 5 из 9"),
        (in_moscow(harness_all, 30), "Шаг 6 из 9"),
        ("Партер, ряд 5, место 12", "Шаг 7 из 9"),
        ("2000", "Шаг 8 из 9"),
        ("2400", "Шаг 9 из 9"),
    ):
        await anna.send(text)
        await anna.wait_text(next_prompt)
    await anna.send_photo(QR_PHOTO)
    summary = await anna.wait_text("Проверьте объявление")
    await harness_all.restart()
    await anna.click(summary, "Опубликовать")
    await anna.wait_text("Опубликовано")
    [ticket] = await tickets(harness_all)
    assert ticket.event_name == "Сплин" and ticket.city_name == "Москва" and ticket.seat_section == "Партер"
    assert harness_all.app is not None
    assert harness_all.app.secrets.open_text(ticket.barcode_ciphertext) == text_of(QR_PHOTO)


async def start_wizard_ru(seller: Seller) -> BotMessage:
    await seller.send("💸 Продать билет")
    return await seller.wait_text("Шаг 1 из 9")


async def test_no_barcode_text_in_the_clear_on_disk_or_in_logs(harness_sqlite: Harness) -> None:
    anna = await registered(harness_sqlite, 6901, "Anna")
    await list_ticket(anna)
    await anna.send("🗂 My tickets")
    mine = await anna.wait_text("My tickets")
    await anna.click(mine, "Barcode 1")
    await anna.person.wait_message(lambda message: message.photo is not None)
    await harness_sqlite.stop()  # everything flushed to the files
    secret = text_of(QR_PHOTO).encode()
    database = Path(harness_sqlite.settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    files = [database, database.with_name(database.name + "-wal"), harness_sqlite.log_path]
    files += [path for path in harness_sqlite.settings.data_dir.rglob("*") if path.is_file()]
    scanned = [path for path in files if path.exists()]
    assert database in scanned and harness_sqlite.log_path in scanned
    for path in scanned:
        assert secret not in path.read_bytes(), path
    await harness_sqlite.start()


def two_tickets_in_one_shot(first: str, second: str) -> bytes:
    """Two e-tickets side by side on one screen, photographed together."""
    image = Image.new("RGB", (900, 450), "white")
    for left, text in ((30, first), (500, second)):
        code = Image.open(io.BytesIO(render_barcode_png("QRCode", text))).convert("RGB").resize((350, 350))
        image.paste(code, (left, 50))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=90)
    return output.getvalue()


async def test_several_barcodes_on_one_photo(harness_sqlite: Harness) -> None:
    first, second = "ENTRY-2026-1111-AAAA", "ENTRY-2026-2222-BBBB"
    anna = await registered(harness_sqlite, 7301, "Anna")
    await fill_until_photo(anna)
    await anna.send_photo(two_tickets_in_one_shot(first, second))
    pick = await anna.wait_text("several barcodes")
    assert sorted(pick.button_texts[:2]) == ["QR Code …AAAA", "QR Code …BBBB"]
    assert not any(first in str(button) or second in str(button) for button in pick.buttons)  # index only
    forged = await anna.person.click_raw(SellCD(action="pick", step="pick", index=7).pack(), pick)
    assert forged is not None and "out of date" in (forged.text or "")
    await anna.send("the second one")
    await anna.wait_text("use the buttons")
    await anna.click(pick, "QR Code …BBBB")
    summary = await anna.wait_text("Check your listing")
    assert "…BBBB" in summary.content
    await anna.click(summary, "Publish")
    await anna.wait_text("🎉 Published")
    [ticket] = await tickets(harness_sqlite)
    assert harness_sqlite.app is not None
    assert harness_sqlite.app.secrets.open_text(ticket.barcode_ciphertext) == second
