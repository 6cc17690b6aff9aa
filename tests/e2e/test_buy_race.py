"""A ticket is never sold twice, through the real bot: 50 buyers press Buy on one ticket at once; then 10 payments
for it land at once (lapsed holds taken over one after another): one sale, every other payment declined at
pre-checkout or refunded."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from db.models import Order, OrderStatus, Payout, Refund, TicketStatus
from db.repo import Repo
from sandbox.messages import BotMessage, PaymentOutcome
from sandbox.users import SimulatedUser
from tests.e2e.conftest import Harness
from tests.e2e.market import assert_only_buyer_got, list_tickets, open_feed, payment_lands
from tests.factories import BarcodeSample, make_user

BUYERS = 50
PAYERS = 10
CROWD_WAIT = 30.0  # seconds: a crowd at once on a busy machine (the whole suite, other jobs) is slow to answer


async def crowd(h: Harness, count: int) -> list[SimulatedUser]:
    """`count` people with accounts (made through the repositories: registration has its own tests)."""
    assert h.app is not None
    people = [h.person(8000 + n, f"Buyer{n}") for n in range(count)]
    async with h.app.sessionmaker() as session, session.begin():
        for person in people:
            await make_user(Repo(session), h.clock.now(), first_name=person.first_name, telegram_id=person.id)
    return people


async def test_fifty_press_buy_then_ten_pay_at_once(harness: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness
    seller = h.person(7401, "Sveta")
    await h.register(seller)
    (ticket,) = await list_tickets(h, seller, [qr_samples[14]])
    buyers = await crowd(h, BUYERS)
    pages = await asyncio.gather(*(open_feed(buyer, CROWD_WAIT) for buyer in buyers))

    pressed = (buyer.click(page, "Buy 1", timeout=CROWD_WAIT) for buyer, page in zip(buyers, pages, strict=True))
    answers = await asyncio.gather(*pressed)
    texts = [answer.text if answer else None for answer in answers]
    held = [buyer for buyer, text in zip(buyers, texts, strict=True) if text and "held for you" in text]
    assert len(held) == 1, texts
    others = [buyer for buyer in buyers if buyer is not held[0]]
    await asyncio.gather(*(buyer.wait_text("Someone else is paying", CROWD_WAIT) for buyer in others))
    invoices: dict[int, BotMessage] = {held[0].id: await held[0].wait_message(lambda m: m.invoice is not None)}
    await h.emu.wait_idle()
    assert len(h.emu.calls_to("sendInvoice")) == 1  # the invoice follows the button's answer: counted once it came

    # Each hold lapses and the next buyer takes the ticket over, until ten have an invoice.
    for buyer in others[: PAYERS - 1]:
        h.clock.move(timedelta(minutes=h.settings.reservation_minutes + 1))
        answer = await buyer.click(pages[buyers.index(buyer)], "Buy 1")
        assert answer is not None and "held for you" in (answer.text or ""), answer
        invoices[buyer.id] = await buyer.wait_message(lambda m: m.invoice is not None)
    payers = [held[0], *others[: PAYERS - 1]]
    winner = payers[-1]  # the only live hold

    async def pay(n: int, buyer: SimulatedUser) -> PaymentOutcome:
        """Half go through checkout now; the other half had their pre-checkout approved and land now."""
        if n % 2:
            return payment_lands(buyer, invoices[buyer.id])
        return await buyer.pay(invoices[buyer.id])

    outcomes = await asyncio.gather(*(pay(n, buyer) for n, buyer in enumerate(payers)))
    await winner.wait_text("Your ticket", CROWD_WAIT)
    refunded = {o.charge_id for o in outcomes if o.paid} - {outcomes[-1].charge_id}
    not_charged = [o for o in outcomes if not o.paid]  # declined (or, on a very busy machine, timed out)
    assert len(not_charged) + len(refunded) == PAYERS - 1
    assert all("hold ran out" in (o.error_message or "") for o in not_charged if o.status == "declined")
    await h.emu.wait_idle()
    assert {refund.telegram_payment_charge_id for refund in h.emu.refunds} == refunded

    assert h.app is not None
    async with h.app.sessionmaker() as session:
        repo = Repo(session)
        sold = await repo.orders.ticket(ticket.id)
        assert sold is not None and sold.status == TicketStatus.SOLD
        orders = list((await session.execute(select(Order).where(Order.ticket_id == ticket.id))).scalars())
        paid = [order for order in orders if order.status == OrderStatus.PAID]
        assert len(paid) == 1 and paid[0].buyer_id == sold.buyer_id
        assert paid[0].telegram_payment_charge_id == outcomes[-1].charge_id
        assert len((await session.execute(select(Payout))).scalars().all()) == 1
        refund_rows = (await session.execute(select(Refund))).scalars().all()
        assert len(refund_rows) == len(refunded)
        assert sum(order.status == OrderStatus.REFUNDED for order in orders) == len(refunded)
        assert await repo.ledger.balance("escrow", "XTR") == paid[0].amount
    assert_only_buyer_got(h, qr_samples[14].text, winner.id)
