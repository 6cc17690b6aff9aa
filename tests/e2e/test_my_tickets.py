"""My tickets end to end: tabs and pages, withdrawing with a confirmation, the seller's own barcode, forged ids."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from db.models import Ticket, TicketStatus, TicketStatusChange
from handlers.my_tickets.callbacks import MyCD
from handlers.purchases.callbacks import PurchaseCD
from sandbox.messages import BotMessage
from sandbox.users import SimulatedUser
from services.barcodes import scan_photo
from tests.e2e.conftest import Harness
from tests.e2e.market import list_tickets
from tests.factories import BarcodeSample


async def open_my_tickets(harness: Harness, person: SimulatedUser) -> BotMessage:
    harness.clock.move(timedelta(seconds=1))
    await person.send("🗂 My tickets")
    return await person.wait_text("My tickets")


async def click(harness: Harness, person: SimulatedUser, message: BotMessage, text: str) -> BotMessage:
    """Press a button of the My tickets message and return the message as redrawn."""
    harness.clock.move(timedelta(seconds=1))
    await person.click(message, text)
    await harness.emu.wait_idle()
    current = next(m for m in person.messages if m.message_id == message.message_id)
    return current


async def statuses(harness: Harness) -> dict[int, TicketStatus]:
    assert harness.app is not None
    async with harness.app.sessionmaker() as session:
        return dict((await session.execute(select(Ticket.id, Ticket.status))).all())


async def test_tabs_and_pages(harness_sqlite: Harness, qr_samples: list[BarcodeSample]) -> None:
    harness = harness_sqlite
    anna = harness.person(7001, "Anna")
    await harness.register(anna)
    now = harness.clock.now()
    for number in range(7):
        await list_tickets(harness, anna, qr_samples[:1], event_name=f"Show {number}", created_at=now + timedelta(
            minutes=number))  # fmt: skip
    for status in (TicketStatus.RESERVED, TicketStatus.SOLD, TicketStatus.EXPIRED, TicketStatus.WITHDRAWN,
                   TicketStatus.BLOCKED):  # fmt: skip
        await list_tickets(harness, anna, qr_samples[:1], event_name=f"The {status.value} one", status=status)

    page = await open_my_tickets(harness, anna)
    assert "On sale" in page.content and "Show 6" in page.content and "Show 2" in page.content
    assert "Show 1" not in page.content and page.content.count("🟢 on sale") == 5
    assert "⏸ Withdraw 5" in page.button_texts and "🔳 Barcode 5" in page.button_texts
    assert PurchaseCD(action="list").pack() in [button.get("callback_data") for button in page.buttons]
    page = await click(harness, anna, page, "Next")
    assert "Show 1" in page.content and "Show 0" in page.content and "Show 2" not in page.content
    assert "Next ▶️" not in page.button_texts
    page = await click(harness, anna, page, "First page")
    assert "Show 6" in page.content
    await click(harness, anna, page, "My purchases")
    await anna.wait_text("haven't bought any tickets yet")

    for tab, name, status in (
        ("Reserved", "The reserved one", "reserved: a buyer is paying"),
        ("Sold", "The sold one", "✅ sold"),
        ("Expired", "The expired one", "expired unsold"),
        ("Withdrawn", "The withdrawn one", "withdrawn"),
    ):
        page = await click(harness, anna, page, tab)
        assert name in page.content and status in page.content, tab
        assert not any(text.startswith("⏸ Withdraw") for text in page.button_texts)
    assert "The blocked one" in page.content and "blocked by moderators" in page.content


async def test_withdraw_with_confirmation_and_show_barcode(
    harness_sqlite: Harness, qr_samples: list[BarcodeSample]
) -> None:
    harness = harness_sqlite
    anna = harness.person(7101, "Anna")
    await harness.register(anna)
    [ticket] = await list_tickets(harness, anna, qr_samples[:1], event_name="Splean")

    page = await open_my_tickets(harness, anna)
    await click(harness, anna, page, "Barcode 1")
    shown = await anna.wait_message(lambda message: message.photo is not None)
    assert shown.protected and "Splean" in shown.content and qr_samples[0].text not in shown.content
    png = harness.emu.files.get(shown.photo[-1]["file_id"])
    assert png is not None
    assert [barcode.text for barcode in scan_photo(png.data, max_bytes=10**7).barcodes] == [qr_samples[0].text]

    confirm = await click(harness, anna, page, "Withdraw 1")
    assert "Withdraw Splean from sale?" in confirm.content
    page = await click(harness, anna, confirm, "No, keep it")
    assert "Splean" in page.content and (await statuses(harness))[ticket.id] == TicketStatus.ACTIVE

    confirm = await click(harness, anna, page, "Withdraw 1")
    stale_confirm = confirm
    page = await click(harness, anna, confirm, "Yes, withdraw")
    assert "Nothing on sale" in page.content
    assert (await statuses(harness))[ticket.id] == TicketStatus.WITHDRAWN
    answer = await anna.click_raw(MyCD(action="confirm", id=ticket.id).pack(), stale_confirm)  # a double click
    assert answer is not None and "not on sale any more" in (answer.text or "")
    assert harness.app is not None
    async with harness.app.sessionmaker() as session:
        history = (await session.execute(select(TicketStatusChange.status))).scalars().all()
    assert history == [TicketStatus.WITHDRAWN]  # once


async def test_forged_ids_change_nothing(harness_sqlite: Harness, qr_samples: list[BarcodeSample]) -> None:
    harness = harness_sqlite
    anna = harness.person(7201, "Anna")
    boris = harness.person(7202, "Boris")
    await harness.register(anna)
    await harness.register(boris)
    [on_sale] = await list_tickets(harness, anna, qr_samples[:1])
    [reserved] = await list_tickets(harness, anna, qr_samples[1:2], status=TicketStatus.RESERVED)
    before = await statuses(harness)
    page = await open_my_tickets(harness, boris)
    photos_before = len(harness.emu.calls_to("sendPhoto"))
    for action in ("withdraw", "confirm", "barcode"):
        for ticket_id in (on_sale.id, reserved.id, 999_999):
            harness.clock.move(timedelta(seconds=1))
            answer = await boris.click_raw(MyCD(action=action, id=ticket_id).pack(), page)
            assert answer is not None and "isn't one of your tickets" in (answer.text or ""), (action, ticket_id)
    page = await open_my_tickets(harness, anna)
    for action in ("withdraw", "confirm"):
        harness.clock.move(timedelta(seconds=1))
        answer = await anna.click_raw(MyCD(action=action, id=reserved.id).pack(), page)
        assert answer is not None and "A buyer is paying" in (answer.text or "")
    for forged in ("my:confirm:sale:0:not-a-number", f"my:confirm:sale:0:{2**63}", f"my:barcode:sale:0:{2**40}"):
        harness.clock.move(timedelta(seconds=1))
        answer = await anna.click_raw(forged, page)
        assert answer is not None and "out of date" in (answer.text or ""), forged
    for forged_page in (f"my:tab:sale:{10**30}:1", f"my:tab:sale:{-(2**62)}:7", "my:tab:nonsense:0:0"):
        harness.clock.move(timedelta(seconds=1))
        assert await anna.click_raw(forged_page, page) is not None  # drawn as the first page of On sale
        await harness.emu.wait_idle()
        assert "On sale" in next(m for m in anna.messages if m.message_id == page.message_id).content
    await harness.emu.wait_idle()
    assert await statuses(harness) == before
    assert len(harness.emu.calls_to("sendPhoto")) == photos_before
