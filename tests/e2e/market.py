"""Tickets on sale for the end-to-end tests, listed through the repositories (not the sell wizard) with real
sealed barcodes and real photos from the corpus, in the running bot's own storage."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import zxingcpp
from PIL import Image

from db.models import Ticket
from db.repo import Repo
from sandbox.messages import BotMessage, PaymentOutcome
from sandbox.users import SimulatedUser
from tests.e2e.conftest import Harness
from tests.factories import BarcodeSample, barcode_samples, make_listed_ticket


async def list_tickets(
    harness: Harness, seller: SimulatedUser, samples: Sequence[BarcodeSample] | None = None, **fields: object
) -> list[Ticket]:
    """One ticket per sample (the first QR photo of the corpus by default), sold by `seller` (registered through
    the bot first)."""
    samples = barcode_samples("qr")[:1] if samples is None else samples
    app = harness.app
    assert app is not None
    async with app.sessionmaker() as session, session.begin():
        repo = Repo(session)
        user = await repo.users.by_telegram_id(seller.id)
        assert user is not None, f"{seller} is not registered"
        now = harness.clock.now()
        return [
            await make_listed_ticket(repo, user, now, app.secrets, app.photo_storage, sample, **fields)
            for sample in samples
        ]


async def open_feed(person: SimulatedUser, timeout: float | None = None) -> BotMessage:  # noqa: ASYNC109
    await person.send("/feed")
    return await person.wait_text("Tickets on sale", timeout)


async def buy_from_feed(person: SimulatedUser, number: int = 1) -> BotMessage:
    """Open the feed, press "Buy <number>"; returns the invoice."""
    return await buy_on(person, await open_feed(person), number)


async def buy_on(person: SimulatedUser, page: BotMessage, number: int = 1) -> BotMessage:
    """Press "Buy <number>" on a feed page drawn earlier; returns the invoice."""
    answer = await person.click(page, f"Buy {number}")
    assert answer is not None and "held for you" in (answer.text or ""), answer
    return await person.wait_message(lambda m: m.invoice is not None)


def payment_lands(person: SimulatedUser, invoice: BotMessage) -> PaymentOutcome:
    """Telegram confirms a payment whose pre-checkout the bot approved moments before: the successful_payment
    arrives now, with no new pre-checkout (as when the hold runs out, or someone else takes the ticket, while the
    payer confirms). The tail of SimulatedUser.pay, for races the emulator can't order on its own."""
    emu = person.emu
    info = person._live(invoice).invoice
    assert info is not None and info.paid_charge_id is None
    charge = emu._create_charge(person.bot, person.id, info)
    info.paid_charge_id = charge.charge_id
    successful = {
        "currency": info.currency,
        "total_amount": info.total_amount,
        "invoice_payload": info.payload,
        "telegram_payment_charge_id": charge.charge_id,
        "provider_payment_charge_id": charge.provider_charge_id,
    }
    person._sent({"successful_payment": successful})
    return PaymentOutcome("paid", telegram_payment_charge_id=charge.charge_id)


def assert_only_buyer_got(harness: Harness, secret: str, buyer_id: int | None) -> None:
    """The barcode text went nowhere but to its buyer (None: to nobody): in no parameter of any call the bot
    made (texts, captions, invoices, keyboards), in no photo but the buyer's, in no log line."""
    secret = secret.strip()
    for call in harness.emu.calls:
        assert secret not in json.dumps(call.params, ensure_ascii=False, default=str), call.method
        upload = call.file("photo") if call.method.lower() == "sendphoto" else None
        if upload is not None and secret in decoded_texts(upload.data):
            assert call.params.get("chat_id") == buyer_id, f"the barcode went to chat {call.params.get('chat_id')}"
    assert secret not in harness.log_path.read_text(encoding="utf-8")


def decoded_texts(image: bytes) -> list[str]:
    with Image.open(io.BytesIO(image)) as picture:
        found = zxingcpp.read_barcodes(picture.convert("L"), text_mode=zxingcpp.TextMode.Plain)
        return [result.text.strip() for result in found]
