"""Selling from what sellers hold, end to end through the emulator: a PDF e-ticket, a Wallet pass and a tilted phone
photo listed and delivered to their buyers; every refusal of a document gets its text and changes nothing; the
genuine owner's "This is my ticket" claim, decided by an admin."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from db.models import TicketStatus
from tests import barcode_documents as docs
from tests.e2e.conftest import Harness
from tests.e2e.market import buy_from_feed, decoded_texts
from tests.e2e.test_sell import (
    QR_PHOTO_AGAIN,
    Seller,
    fill_until_photo,
    fsm_state,
    list_ticket,
    registered,
    tickets,
)

PDF_TEXT = "E-TICKET-2026-000457890"
PASS_TEXT = "TICKET-PASS-000123"
PHOTO_TEXT = "PHONE-PHOTO-TICKET-31"


def pass_for(harness: Harness, message: str) -> bytes:
    """A Wallet pass with a PDF417 code, its event three weeks ahead (Moscow time)."""
    starts = (harness.clock.now() + timedelta(days=21)).astimezone(ZoneInfo("Europe/Moscow"))
    starts = starts.replace(hour=19, minute=0, second=0, microsecond=0)
    code = {"format": "PKBarcodeFormatPDF417", "message": message, "messageEncoding": "iso-8859-1"}
    return docs.wallet_pass(docs.event_pass([code], relevantDate=starts.isoformat()))


async def send_file(seller: Seller, data: bytes, name: str, mime: str) -> None:
    seller._pause()
    await seller.person.send_document(data, name, mime)


async def buy_and_receive(harness: Harness, buyer_id: int) -> list[str]:
    """A registered buyer buys the one ticket on sale and pays; the methods the bot delivered it with."""
    buyer = harness.person(buyer_id, f"Buyer{buyer_id}")
    await harness.register(buyer)
    before = len(harness.emu.calls)
    outcome = await buyer.pay(await buy_from_feed(buyer))
    assert outcome.paid, outcome
    await buyer.wait_text("Your ticket")
    return [call.method for call in harness.emu.calls[before:] if call.params.get("chat_id") == buyer.id]


def delivered(harness: Harness, method: str, chat_id: int, field: str) -> list[bytes]:
    calls = [call for call in harness.emu.calls_to(method) if call.params.get("chat_id") == chat_id]
    return [upload.data for call in calls if (upload := call.file(field)) is not None]


async def test_pdf_pass_and_tilted_photo_are_listed_and_delivered(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    anna = await registered(h, 6401, "Anna")

    # A 2-page PDF e-ticket, the QR code on page 2.
    await fill_until_photo(anna)
    await send_file(anna, docs.vector_pdf([None, ("QRCode", PDF_TEXT)]), "ticket.pdf", "application/pdf")
    summary = await anna.wait_text("Check your listing")
    assert "QR Code …7890 from page 2 of the PDF" in summary.content
    await anna.click(summary, "Publish")
    await anna.wait_text("🎉 Published")
    (pdf_ticket,) = await tickets(h)
    assert (pdf_ticket.document_kind, pdf_ticket.document_page) == ("pdf", 2)
    assert h.app is not None and (await h.app.photo_storage.get(pdf_ticket.photo_key)).startswith(b"%PDF-")
    await buy_and_receive(h, 6411)
    barcode, page = delivered(h, "sendPhoto", 6411, "photo")
    assert decoded_texts(barcode) == [PDF_TEXT] and decoded_texts(page) == [PDF_TEXT]  # page 2, rendered

    # A Wallet pass with a PDF417 code: its details taken into the listing.
    await fill_until_photo(anna, name="Splean")
    sent_pass = pass_for(h, PASS_TEXT)
    await send_file(anna, sent_pass, "ticket.pkpass", "application/vnd.apple.pkpass")
    offer = await anna.wait_text("The Wallet pass says")
    assert "Nutcracker" in offer.content and "Bolshoi Theatre" in offer.content
    await anna.wait_text("Check your listing")
    await anna.click(offer, "Use these details")
    summary = await anna.person.wait_message(lambda m: "Check your listing" in m.content and "Nutcracker" in m.content)
    assert "from the Wallet pass" in summary.content and "Bolshoi Theatre" in summary.content
    await anna.click(summary, "Publish")
    await anna.wait_text("🎉 Published")
    pass_ticket = (await tickets(h))[-1]
    assert (pass_ticket.event_name, pass_ticket.venue, pass_ticket.document_kind) == (
        "Nutcracker", "Bolshoi Theatre", "pass")  # fmt: skip
    assert pass_ticket.event_at.astimezone(ZoneInfo("Europe/Moscow")).hour == 19
    assert "sendDocument" in await buy_and_receive(h, 6412)
    (pkpass,) = delivered(h, "sendDocument", 6412, "document")
    assert pkpass == sent_pass  # the pass as the seller sent it
    assert decoded_texts(delivered(h, "sendPhoto", 6412, "photo")[0]) == [PASS_TEXT]

    # A phone photo, tilted by 30 degrees.
    tilted = docs.rotated(docs.on_scene(docs.code_image("QRCode", PHOTO_TEXT), (1600, 1200), 0.2), 30)
    await fill_until_photo(anna, name="Mumiy Troll")
    await anna.send_photo(docs.telegram_photo(tilted))
    summary = await anna.wait_text("Check your listing")
    assert "Barcode: QR Code …T-31\n" in summary.content  # a photo: nothing said of pages or passes
    await anna.click(summary, "Publish")
    await anna.wait_text("🎉 Published")
    assert (await tickets(h))[-1].document_kind == "photo"
    await buy_and_receive(h, 6413)
    assert decoded_texts(delivered(h, "sendPhoto", 6413, "photo")[0]) == [PHOTO_TEXT]
    assert [t.status for t in await tickets(h)] == [TicketStatus.SOLD] * 3


async def test_every_document_refusal_has_its_text_and_changes_nothing(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    boris = await registered(h, 6421, "Boris")
    await fill_until_photo(boris)
    pdf, pkpass = "application/pdf", "application/vnd.apple.pkpass"
    refused = [
        (docs.encrypted_pdf(), pdf, "password-protected"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", pdf, "can't open this PDF"),
        (docs.empty_pdf(), pdf, "can't open this PDF"),
        (docs.vector_pdf([None] * 11), pdf, "at most 10"),
        (docs.vector_pdf([None]), pdf, "can't find a barcode in this PDF"),
        (docs.wallet_pass(docs.event_pass([]), extra={"strip.png": bytes(11 * 1024 * 1024)}), pkpass, "far larger"),
        (docs.wallet_pass(None), pkpass, "no pass.json"),
        (docs.wallet_pass(docs.event_pass([])), pkpass, "carries no barcode"),
        (docs.png(docs.code_image("QRCode", "   ")), "image/png", "holds no text a buyer could use"),
    ]
    for data, mime, text in refused:
        await send_file(boris, data, "ticket", mime)
        answer = await boris.wait_text(text)
        assert "{" not in answer.content, answer.content
        assert await fsm_state(h, boris) == "SellWizard:photo"
    assert await tickets(h) == []
    assert h.app is not None
    stored = [path for path in h.app.settings.photo_dir.rglob("*") if path.is_file()]  # nothing kept of a refusal
    assert stored == [], stored
    assert json.dumps([c.params for c in h.emu.calls], default=str).count("TICKET-") == 0


async def test_the_genuine_owner_claims_a_listed_ticket_and_an_admin_upholds_it(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    scalper, owner = await registered(h, 6431, "Anna"), await registered(h, 6432, "Olga")
    admin = await h.admin()
    await list_ticket(scalper)
    await fill_until_photo(owner)
    await owner.send_photo(QR_PHOTO_AGAIN)  # her own photo of the same barcode
    refusal = await owner.wait_text("already listed by someone else")
    await owner.click(refusal, "This is my ticket")
    await owner.wait_text("moderators will look into it")
    await scalper.wait_text("Someone says the ticket of your listing is theirs")
    await admin.wait_text("new ownership claim")
    (listed,) = await tickets(h)
    assert listed.status == TicketStatus.FROZEN
    ivan = await registered(h, 6433, "Ivan")
    await ivan.send("/feed")
    assert "Splean" not in (await ivan.person.wait_new()).content  # off the feed while it is reviewed

    await admin.send("/claims")
    claim = await admin.wait_text("Claim #")
    await admin.click(claim, "Block the listing")
    await admin.wait_text("the listing is blocked")
    await owner.wait_text("you can list your ticket now")
    await scalper.wait_text("blocked your listing")
    await list_ticket(owner, QR_PHOTO_AGAIN)
    blocked, relisted = await tickets(h)
    assert (blocked.status, blocked.barcode_fingerprint) == (TicketStatus.BLOCKED, None)
    assert relisted.status == TicketStatus.ACTIVE and relisted.seller_id != blocked.seller_id
    await admin.send("/claims")
    await admin.wait_text("No open claims")
