"""Adjacent seats sold together, through the real bot: a seller lists two seats of one event through the wizard with
two real barcode photos, "sold together" at one price; 20 buyers press Buy on its one feed card at once (one hold
takes both seats, the others are refused); the hold lapses and the sweep reopens both seats; the next buyer takes
them over and both payments land at once: one sale of both seats, the other payment refunded, nobody with one seat;
the buyer receives both barcodes and nobody else either."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from db.models import Order, OrderStatus, Ticket, TicketStatus
from sandbox.users import SimulatedUser
from tests.e2e.conftest import Harness
from tests.e2e.market import assert_only_buyer_got, open_feed, payment_lands
from tests.e2e.test_buy_race import CROWD_WAIT, crowd
from tests.e2e.test_sell import OTHER_QR, QR_PHOTO, Seller, fill_until_photo, registered, text_of

BUYERS = 20


async def list_together(seller: Seller) -> None:
    """Row 5, seats 12 and 13 of one concert, one photo each, sold together for 4,400 (the cap: 2 x 2,000 + 20 %)."""
    await fill_until_photo(seller)
    await seller.send_photo(QR_PHOTO)
    summary = await seller.wait_text("Check your listing")
    await seller.click(summary, "Add another seat")
    ask = await seller.wait_text("Ticket 2. Which seat?")
    await seller.send("Section A, row 5, seat 13")
    await seller.wait_text("Ticket 2. Send a photo")
    await seller.send_photo(QR_PHOTO)  # the first seat's barcode again: refused, nothing changes
    await seller.wait_text("already on another seat of this listing")
    await seller.send_photo(OTHER_QR)
    mode = await seller.wait_text("How are the 2 tickets sold?")
    await seller.click(mode, "Sold together")
    await seller.wait_text("One price for all 2 seats")
    await seller.send("4900")  # over the cap on the sum of the face values
    await seller.wait_text("That's above the cap")
    await seller.send("4400")
    summary = await seller.wait_text("Sold together: 2 seats")
    assert "2 seats together: Section A, row 5, seats 12–13" in summary.content, summary.content
    assert "QR Code …" + text_of(OTHER_QR)[-4:] in summary.content and ask.message_id < summary.message_id
    await seller.click(summary, "Publish")
    await seller.wait_text("🎉 Published! 2 tickets")


async def seats(h: Harness) -> list[Ticket]:
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())


def barcodes_received(person: SimulatedUser) -> int:
    return sum("Barcode: show it at the entrance" in m.content for m in person.messages)


async def test_two_seats_together_one_buyer_of_twenty(harness: Harness) -> None:
    h = harness
    seller = await registered(h, 7501, "Sveta")
    await list_together(seller)
    pair = await seats(h)
    assert len(pair) == 2 and pair[0].group_id is not None and pair[0].group_id == pair[1].group_id
    assert sum(ticket.price for ticket in pair) == 4400

    buyers = await crowd(h, BUYERS)
    pages = await asyncio.gather(*(open_feed(buyer, CROWD_WAIT) for buyer in buyers))
    assert "2 seats together" in pages[0].content and "Buy 2" not in str(pages[0].buttons)  # one card for both
    pressed = (buyer.click(page, "Buy 1", timeout=CROWD_WAIT) for buyer, page in zip(buyers, pages, strict=True))
    texts = [answer.text if answer else None for answer in await asyncio.gather(*pressed)]
    held = [buyer for buyer, text in zip(buyers, texts, strict=True) if text and "held for you" in text]
    assert len(held) == 1, texts  # its invoice follows the answer: counted below, once it has come
    first, others = held[0], [buyer for buyer in buyers if buyer is not held[0]]
    await asyncio.gather(*(buyer.wait_text("Someone else is paying", CROWD_WAIT) for buyer in others))
    invoice = await first.wait_message(lambda m: m.invoice is not None)
    assert invoice.invoice is not None
    (call,) = h.emu.calls_to("sendInvoice")
    assert 1 <= len(call.params["title"]) <= 32 and 1 <= len(call.params["description"]) <= 255
    assert "2 seats together" in call.params["description"]
    assert [s.status for s in await seats(h)] == [TicketStatus.RESERVED] * 2

    # The hold lapses: the sweep reopens both seats; the next buyer takes them over.
    h.clock.move(timedelta(minutes=h.settings.reservation_minutes + 1))
    assert h.app is not None
    assert (await h.app.scheduler.sweeper.run_all()).holds == 1
    assert [s.status for s in await seats(h)] == [TicketStatus.ACTIVE] * 2
    second = others[0]
    answer = await second.click(pages[buyers.index(second)], "Buy 1")
    assert answer is not None and "held for you" in (answer.text or ""), answer
    second_invoice = await second.wait_message(lambda m: m.invoice is not None)

    # Both pay at once: the first one's pre-checkout was approved before its hold ran out.
    late = payment_lands(first, invoice)
    paid = await second.pay(second_invoice)
    assert late.paid and paid.paid
    await h.emu.wait_idle()
    await second.wait_text("Barcode: show it at the entrance", CROWD_WAIT)
    for _ in range(50):  # the second barcode follows the first
        if barcodes_received(second) == 2:
            break
        await asyncio.sleep(0.1)
    assert barcodes_received(second) == 2
    assert all(barcodes_received(buyer) == 0 for buyer in buyers if buyer is not second)
    assert [refund.telegram_payment_charge_id for refund in h.emu.refunds] == [late.charge_id]

    sold = await seats(h)
    assert {(s.status, s.buyer_id) for s in sold} == {(TicketStatus.SOLD, sold[0].buyer_id)}
    async with h.app.sessionmaker() as session:
        orders = list((await session.execute(select(Order))).scalars())
    assert sorted(o.status for o in orders) == sorted([OrderStatus.PAID, OrderStatus.REFUNDED])
    for photo in (QR_PHOTO, OTHER_QR):
        assert_only_buyer_got(h, text_of(photo), second.id)
