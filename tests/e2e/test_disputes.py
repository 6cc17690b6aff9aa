"""The money after a sale: "the ticket didn't work" (a dispute freezes the payout), both sides' words, the admin's
decision (refund the buyer or release to the seller), payouts by phone through the manual gateway, refund tasks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

import bot.middlewares.hiccups as hiccups
from db.models import LedgerEntry, Order, OrderStatus, Payout, PayoutStatus, Refund, RefundStatus
from db.repo import Repo
from sandbox.messages import BotMessage
from sandbox.users import SimulatedUser
from services import payouts
from tests.e2e.conftest import Harness
from tests.e2e.market import assert_only_buyer_got, buy_from_feed, list_tickets
from tests.factories import BarcodeSample


async def sold(h: Harness, seller: SimulatedUser, buyer: SimulatedUser, sample: BarcodeSample) -> BotMessage:
    """Seller and buyer registered, one ticket listed, bought and paid; returns the buyer's ticket details."""
    await h.register(seller)
    await h.register(buyer)
    await list_tickets(h, seller, [sample], event_name="Гамлет", price=3000, face_value=3000)
    invoice = await buy_from_feed(buyer)
    assert (await buyer.pay(invoice)).paid
    details = await buyer.wait_text("Your ticket")
    await seller.wait_text("was sold")
    return details


async def money_state(h: Harness) -> tuple[OrderStatus, PayoutStatus, list[tuple[str, RefundStatus]], int]:
    """The only order's status, its payout's, its refunds (reason, status) and the ledger's sum."""
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        (order,) = (await session.execute(select(Order).where(Order.status != OrderStatus.CANCELLED))).scalars()
        payout = await session.scalar(select(Payout).where(Payout.order_id == order.id))
        refunds = (await session.execute(select(Refund.reason, Refund.status))).all()
        total = await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)))
        assert payout is not None
        return order.status, payout.status, [tuple(row) for row in refunds], int(total or 0)


async def open_dispute(h: Harness, buyer: SimulatedUser, seller: SimulatedUser, details: BotMessage) -> None:
    await buyer.click(details, "didn't work")
    await buyer.wait_text("What happened?")
    await buyer.send("The turnstile said <already used>")
    await buyer.wait_text("Reported")
    told = await seller.wait_text("didn't work")
    assert "«The turnstile said <already used>»" in told.content  # the buyer's words, escaped, not markup
    await seller.click(told, "Tell my side")
    await seller.wait_text("What do you say?")
    await seller.send("It worked when I bought it")
    await seller.wait_text("Thank you")


async def test_dispute_then_refund_in_stars(harness: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness
    seller, buyer, stranger = h.person(7301, "Sveta"), h.person(7302, "Boris"), h.person(7303, "Olga")
    details = await sold(h, seller, buyer, qr_samples[10])
    admin = await h.admin()
    await h.register(stranger)
    await open_dispute(h, buyer, seller, details)
    await admin.wait_text("opened dispute")
    assert (await money_state(h))[:2] == (OrderStatus.PAID, PayoutStatus.FROZEN)

    again = await buyer.click(details, "didn't work")
    assert again is not None and "already reported" in (again.text or "")
    await stranger.send("/disputes")  # not an admin: an unknown command
    await stranger.wait_text("didn't understand")

    await admin.send("/disputes")
    case = await admin.wait_text("Dispute #")
    assert "The turnstile said <already used>" in case.content and "It worked when I bought it" in case.content
    assert "Гамлет" in case.content and "⭐️ 1800" in case.content
    await admin.click(case, "Refund buyer")
    decided = await admin.wait_message(lambda m: "the buyer is refunded" in m.content)
    assert decided.buttons == []
    await buyer.wait_text("decided in your favour")
    await seller.wait_text("decided for the buyer")
    assert len(h.emu.refunds) == 1 and h.emu.refunds[0].user_id == buyer.id and h.emu.refunds[0].amount == 1800
    assert await money_state(h) == (OrderStatus.REFUNDED, PayoutStatus.CANCELLED, [("dispute", RefundStatus.DONE)], 0)

    twice = await admin.click_raw(case.buttons[0]["callback_data"], case)  # a second press, or another admin
    assert twice is not None and "already decided" in (twice.text or "")
    assert len(h.emu.refunds) == 1
    await admin.send("/refunds")
    await admin.wait_text("No refunds are waiting")
    assert_only_buyer_got(h, qr_samples[10].text, buyer.id)


async def test_dispute_then_release_and_payout(harness: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness
    seller, buyer = h.person(7311, "Sveta"), h.person(7312, "Boris")
    details = await sold(h, seller, buyer, qr_samples[11])
    admin = await h.admin()
    await open_dispute(h, buyer, seller, details)
    await admin.send("/disputes")
    case = await admin.wait_text("Dispute #")
    await admin.click(case, "Release to seller")
    await admin.wait_message(lambda m: "released to the seller" in m.content)
    await buyer.wait_text("decided the ticket was fine")
    await seller.wait_text("decided in your favour")
    assert (await money_state(h))[:2] == (OrderStatus.PAID, PayoutStatus.RELEASED)

    await admin.send("/payouts")
    payouts_page = await admin.wait_text("Payouts to make")
    assert seller.phone is not None and seller.phone in payouts_page.content  # the one place a phone is shown
    assert "3,000\u00a0RUB" in payouts_page.content  # the buyer paid ⭐️ 1800; the seller is owed the asking price
    await admin.click(payouts_page, "Paid 1")
    await admin.wait_message(lambda m: "No released payouts" in m.content)
    paid = await seller.wait_text("You've been paid")
    assert "3,000\u00a0RUB" in paid.content
    assert (await money_state(h)) == (OrderStatus.PAID, PayoutStatus.PAID, [], 0)
    again = await admin.click_raw(payouts_page.buttons[0]["callback_data"], payouts_page)
    assert again is not None and "isn't waiting" in (again.text or "")
    for person in (buyer, seller):
        assert all(seller.phone not in message.content for message in person.messages)


async def test_no_dispute_once_the_escrow_is_released(harness_sqlite: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness_sqlite
    seller, buyer = h.person(7321, "Sveta"), h.person(7322, "Boris")
    details = await sold(h, seller, buyer, qr_samples[12])
    admin = await h.admin()
    assert h.app is not None
    h.clock.move(timedelta(days=31, hours=h.settings.escrow_hours))  # the event is over, the escrow too
    async with h.app.sessionmaker() as session, session.begin():  # the escrow sweep
        released = await payouts.release_due(Repo(session), h.clock.now())
    assert len(released) == 1
    late = await buyer.click(details, "didn't work")
    assert late is not None and "too late" in (late.text or "")
    await admin.send("/payouts")
    page = await admin.wait_text("Payouts to make")
    await admin.click(page, "Paid 1")
    await seller.wait_text("You've been paid")
    assert (await money_state(h)) == (OrderStatus.PAID, PayoutStatus.PAID, [], 0)
    await buyer.send("/purchases")
    listing = await buyer.wait_text("My purchases")
    assert "done" in listing.content and "Problem" not in " ".join(listing.button_texts)


async def test_provider_refund_is_an_admin_task(harness_provider: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness_provider
    seller, buyer = h.person(7331, "Sveta"), h.person(7332, "Boris")
    details = await sold(h, seller, buyer, qr_samples[13])
    admin = await h.admin()
    await open_dispute(h, buyer, seller, details)
    await admin.send("/disputes")
    case = await admin.wait_text("Dispute #")
    await admin.click(case, "Refund buyer")
    await admin.wait_text("A refund is waiting")
    await buyer.wait_text("decided in your favour")
    assert h.emu.refunds == []  # a card payment goes back through the provider, by hand
    assert await money_state(h) == (
        OrderStatus.REFUNDED, PayoutStatus.CANCELLED, [("dispute", RefundStatus.PENDING)], 0
    )  # fmt: skip
    await admin.send("/refunds")
    tasks = await admin.wait_text("Refunds to make")
    assert "3,150" in tasks.content and "Boris" in tasks.content and "dispute" in tasks.content
    await admin.click(tasks, "Refunded 1")
    await admin.wait_message(lambda m: "No refunds are waiting" in m.content)
    assert (await money_state(h))[2] == [("dispute", RefundStatus.DONE)]
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        assert await payouts.open_disputes(Repo(session)) == []


async def test_a_refused_stars_refund_waits_for_an_admin(
    harness_sqlite: Harness, qr_samples: list[BarcodeSample]
) -> None:
    h = harness_sqlite
    seller, buyer = h.person(7341, "Sveta"), h.person(7342, "Boris")
    details = await sold(h, seller, buyer, qr_samples[15])
    admin = await h.admin()
    await open_dispute(h, buyer, seller, details)
    await admin.send("/disputes")
    case = await admin.wait_text("Dispute #")
    h.emu.fail_next("refundStarPayment", 500, times=hiccups.TRIES)  # a lasting failure: the update's retries run out
    await admin.click(case, "Refund buyer")
    await admin.wait_text("A refund is waiting")
    assert h.emu.refunds == [] and (await money_state(h))[2] == [("dispute", RefundStatus.PENDING)]
    await admin.send("/refunds")
    tasks = await admin.wait_text("Refunds to make")
    answer = await admin.click(tasks, "Refunded 1")  # for Stars: asks Telegram again
    assert answer is not None and "Refunded through Telegram" in (answer.text or "")
    await admin.wait_message(lambda m: "No refunds are waiting" in m.content)
    assert [refund.user_id for refund in h.emu.refunds] == [buyer.id]
    assert (await money_state(h))[2] == [("dispute", RefundStatus.DONE)]
