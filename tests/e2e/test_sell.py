"""The sell wizard end to end, through the emulator, with real barcode photos from the corpus."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.models import Ticket, TicketStatus, TicketStatusChange
from sandbox.messages import BotMessage
from sandbox.users import SimulatedUser
from tests.e2e.conftest import Harness
from tests.factories import BARCODE_CORPUS

QR_PHOTO = BARCODE_CORPUS / "qr" / "qrcode-1_1.webp"  # a phone photo of a QR code
QR_PHOTO_AGAIN = BARCODE_CORPUS / "qr" / "qrcode-1_7.webp"  # another photo of the same code
OTHER_QR = BARCODE_CORPUS / "qr" / "qrcode-2_#199.webp"
NO_BARCODE = BARCODE_CORPUS / "pdf417" / "pdf417-1_03-cut-bot.png"
TWO_CODES_TEXTS = ("TICKET-1111-AAAA", "TICKET-2222-BBBB")


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
    await person.click(pick, "Moscow, RU")
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
    await person.wait_text("Published")


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
    await anna.wait_text("Published")

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
