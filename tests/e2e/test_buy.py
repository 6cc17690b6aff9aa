"""Buying as people do it: Buy in the feed, the invoice (Stars and a provider), pre-checkout, the payment, the ticket
delivered to the buyer alone, the seller's notice, My purchases; refusals of forged and stale buttons."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

import bot.middlewares.hiccups as hiccups
from db.models import LedgerEntry, Order, OrderStatus, Payout, PayoutStatus, Refund, Ticket, TicketStatus
from db.repo import Repo
from handlers.buy.callbacks import BuyCD, HoldCD
from handlers.purchases.callbacks import PurchaseCD
from sandbox.messages import BotMessage
from tests.e2e.conftest import Harness
from tests.e2e.market import (
    assert_only_buyer_got,
    buy_from_feed,
    buy_on,
    decoded_texts,
    list_tickets,
    open_feed,
    payment_lands,
)
from tests.factories import BarcodeSample


async def ticket_state(h: Harness, ticket_id: int) -> tuple[Ticket, list[Order], list[Payout], int, int]:
    """The ticket, its orders, their payouts, refund rows and the ledger's sum (every posting set balances)."""
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        repo = Repo(session)
        ticket = await repo.orders.ticket(ticket_id)
        assert ticket is not None
        orders = list((await session.execute(select(Order).where(Order.ticket_id == ticket_id))).scalars())
        order_ids = [order.id for order in orders]
        payouts = list((await session.execute(select(Payout).where(Payout.order_id.in_(order_ids)))).scalars())
        refunds = await session.scalar(select(func.count(Refund.id)).where(Refund.order_id.in_(order_ids)))
        total = await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)))
        return ticket, orders, payouts, int(refunds or 0), int(total or 0)


def summary(state: tuple[Ticket, list[Order], list[Payout], int, int]) -> tuple[object, ...]:
    ticket, orders, payouts, refunds, ledger = state
    return (
        (ticket.status, ticket.buyer_id, ticket.sold_at),
        sorted((o.id, o.status, o.telegram_payment_charge_id) for o in orders),
        sorted((p.id, p.status, p.amount) for p in payouts),
        refunds,
        ledger,
    )


async def test_buy_pay_and_receive_the_ticket(harness: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness
    seller, buyer, other = h.person(7201, "Sveta"), h.person(7202, "Boris"), h.person(7203, "Olga")
    for person in (seller, buyer, other):
        await h.register(person)
    sample = qr_samples[2]
    (ticket,) = await list_tickets(h, seller, [sample], event_name="Сплин", price=2000, face_value=2000)

    invoice = await buy_from_feed(buyer)
    assert invoice.invoice is not None
    assert invoice.invoice["currency"] == "XTR" and invoice.invoice["total_amount"] == 1200  # 2000 ₽ x 0.6
    assert invoice.invoice["title"] == "Сплин" and "Moscow time" in invoice.invoice["description"]
    held, *_ = await ticket_state(h, ticket.id)
    assert held.status == TicketStatus.RESERVED
    assert "Сплин" not in (await open_feed(other)).content  # held: off the feed

    outcome = await buyer.pay(invoice)
    assert outcome.paid, outcome
    await buyer.wait_text("Paid")
    barcode = await buyer.wait_message(lambda m: m.photo is not None)
    photo = await buyer.wait_message(lambda m: m.photo is not None)
    details = await buyer.wait_text("Your ticket")
    assert barcode.protected and photo.protected and details.protected
    assert "Barcode" in barcode.content and "original photo" in photo.content
    assert "Сплин" in details.content and "⭐️ 1200" in details.content
    assert "didn't work" in " ".join(details.button_texts)
    photos = h.emu.calls_to("sendPhoto")
    assert [call.params["chat_id"] for call in photos] == [buyer.id, buyer.id]
    assert decoded_texts(photos[0].file("photo").data) == [sample.text.strip()]  # re-rendered, same content
    assert photos[1].file("photo").data == sample.jpeg()  # the seller's photo as stored

    notice = await seller.wait_text("was sold")
    assert "2,000\u00a0RUB" in notice.content and "+7916" not in notice.content and "Boris" not in notice.content

    sold, orders, payouts, refunds, ledger = await ticket_state(h, ticket.id)
    assert sold.status == TicketStatus.SOLD and sold.buyer_id is not None
    assert [order.status for order in orders] == [OrderStatus.PAID]
    assert orders[0].telegram_payment_charge_id == outcome.charge_id
    assert [(p.status, p.amount, p.currency, p.release_at) for p in payouts] == [  # the asking price, in kopecks
        (PayoutStatus.HELD, 200_000, "RUB", sold.event_at + timedelta(hours=h.settings.escrow_hours))
    ]
    assert (refunds, ledger) == (0, 0)

    # Telegram delivers the same payment again: nothing changes, nobody is told anything.
    assert outcome.update is not None
    h.emu.redeliver(outcome.update)
    await buyer.expect_nothing()
    await seller.expect_nothing()
    assert summary(await ticket_state(h, ticket.id)) == summary((sold, orders, payouts, 0, 0))

    await buyer.send("/purchases")
    listing = await buyer.wait_text("My purchases")
    assert "Сплин" in listing.content and "protected" in listing.content
    await buyer.click(listing, "Barcode 1")
    again = await buyer.wait_message(lambda m: m.photo is not None)
    assert again.protected
    await buyer.wait_message(lambda m: m.photo is not None)
    await buyer.wait_text("Your ticket")
    assert "Сплин" not in (await open_feed(other)).content
    await other.send("/purchases")
    await other.wait_text("haven't bought")
    assert_only_buyer_got(h, sample.text, buyer.id)


async def test_provider_invoice_with_a_fee(harness_provider: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness_provider
    seller, buyer = h.person(7211, "Sveta"), h.person(7212, "Boris")
    await h.register(seller)
    await h.register(buyer)
    await list_tickets(h, seller, [qr_samples[3]], price=2500, face_value=2200)
    invoice = await buy_from_feed(buyer)
    assert invoice.invoice is not None
    assert (invoice.invoice["currency"], invoice.invoice["total_amount"]) == ("RUB", 262_500)  # kopecks
    (call,) = h.emu.calls_to("sendInvoice")
    assert call.params["prices"] == [
        {"label": "Ticket", "amount": 250_000},
        {"label": "Service fee 5%", "amount": 12_500},
    ]
    assert call.params["provider_token"] == h.settings.payment_provider_token.get_secret_value()
    assert (await buyer.pay(invoice)).paid
    details = await buyer.wait_text("Your ticket")
    assert "2,625" in details.content
    notice = await seller.wait_text("was sold")
    assert "2,500" in notice.content  # the fee is not the seller's
    assert_only_buyer_got(h, qr_samples[3].text, buyer.id)


async def test_stars_fee_is_one_price_item(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    h.settings.service_fee_percent = 10
    await h.restart()  # the rules are built from the settings at start-up
    seller, buyer = h.person(7221, "Sveta"), h.person(7222, "Boris", language="ru")
    await h.register(seller)
    await h.register(buyer)
    await list_tickets(h, seller, event_name="Очень длинное название концерта, длиннее тридцати двух букв")
    await buyer.send("/feed")
    page = await buyer.wait_text("Билеты в продаже")
    await buyer.click(page, "Купить 1")
    invoice = await buyer.wait_message(lambda m: m.invoice is not None)
    (call,) = h.emu.calls_to("sendInvoice")  # 2000 ₽ x 0.6 x 1.1: both prices, and why
    assert call.params["prices"] == [{"label": "Билет 2\u00a0000\u00a0₽ + сервисный сбор 10%", "amount": 1320}]
    both = "2\u00a0000\u00a0₽ · оплата в Telegram Stars: ⭐ 1\u00a0320 (вкл. сервисный сбор 10%)"
    assert both in page.content and both in call.params["description"]
    assert buyer.callback_answers[-1].text is not None and both in buyer.callback_answers[-1].text
    assert invoice.invoice is not None and len(invoice.invoice["title"]) == 32
    assert invoice.invoice["title"].endswith("…")


async def test_pre_checkout_for_an_expired_hold(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, buyer = h.person(7231, "Sveta"), h.person(7232, "Boris")
    await h.register(seller)
    await h.register(buyer)
    (ticket,) = await list_tickets(h, seller)
    page = await open_feed(buyer)
    invoice = await buy_on(buyer, page)
    double = await buyer.click(page, "Buy 1")  # a double click: no second order, no second invoice
    assert double is not None and "pay the invoice above" in (double.text or "")
    assert len(h.emu.calls_to("sendInvoice")) == 1
    h.clock.move(timedelta(minutes=h.settings.reservation_minutes, seconds=1))
    declined = await buyer.pay(invoice)
    assert declined.status == "declined" and "hold ran out" in (declined.error_message or "")
    assert (await ticket_state(h, ticket.id))[0].status == TicketStatus.RESERVED  # nothing swept it yet
    again = await buy_on(buyer, page)  # the lapsed hold (not swept yet: off the feed) is taken over
    assert (await buyer.pay(again)).paid
    await buyer.wait_text("Your ticket")
    _, orders, _, refunds, ledger = await ticket_state(h, ticket.id)
    assert sorted(order.status for order in orders) == [OrderStatus.EXPIRED, OrderStatus.PAID]
    assert (refunds, ledger) == (0, 0)


async def test_payment_after_someone_else_took_the_ticket_is_refunded(
    harness: Harness, qr_samples: list[BarcodeSample]
) -> None:
    h = harness
    seller, first, second = h.person(7241, "Sveta"), h.person(7242, "Boris"), h.person(7243, "Olga")
    for person in (seller, first, second):
        await h.register(person)
    (ticket,) = await list_tickets(h, seller, [qr_samples[4]])
    page = await open_feed(second)
    late_invoice = await buy_from_feed(first)
    h.clock.move(timedelta(minutes=h.settings.reservation_minutes + 1))
    invoice = await buy_on(second, page)
    assert (await second.pay(invoice)).paid
    await second.wait_text("Your ticket")
    # The first buyer confirmed just as their hold ran out: the money comes back at once.
    late = payment_lands(first, late_invoice)
    await first.wait_text("sold to someone else")
    assert [refund.telegram_payment_charge_id for refund in h.emu.refunds] == [late.charge_id]
    _, orders, payouts, refunds, ledger = await ticket_state(h, ticket.id)
    assert sorted(order.status for order in orders) == [OrderStatus.PAID, OrderStatus.REFUNDED]
    assert (len(payouts), refunds, ledger) == (1, 1, 0)
    assert all(call.params["chat_id"] != first.id for call in h.emu.calls_to("sendPhoto"))
    assert_only_buyer_got(h, qr_samples[4].text, second.id)


async def test_forged_and_stale_buttons_change_nothing(
    harness_sqlite: Harness, qr_samples: list[BarcodeSample]
) -> None:
    h = harness_sqlite
    seller, buyer, other = h.person(7251, "Sveta"), h.person(7252, "Boris"), h.person(7253, "Olga")
    for person in (seller, buyer, other):
        await h.register(person)
    own, sold, withdrawn, passed, held = await list_tickets(h, seller, qr_samples[5:10])
    await open_feed(seller)
    answer = await seller.click_raw(BuyCD(action="buy", id=own.id).pack())
    assert answer is not None and answer.text == "That's your own ticket."

    page = await open_feed(buyer)  # drawn while all five are on sale
    assert page.content.count("Seller: Sveta") == 5
    assert h.app is not None
    async with h.app.sessionmaker() as session, session.begin():
        await session.execute(Ticket.__table__.update().where(Ticket.id == sold.id).values(status=TicketStatus.SOLD))
        await session.execute(
            Ticket.__table__.update().where(Ticket.id == withdrawn.id).values(status=TicketStatus.WITHDRAWN)
        )
        await session.execute(Ticket.__table__.update().where(Ticket.id == passed.id).values(event_at=h.clock.now()))
    # Newest first (same time: by id): held, passed, withdrawn, sold, own; the buttons as drawn then.
    drawn = {button["text"]: button["callback_data"] for button in page.buttons}
    for n, text in ((4, "already sold"), (3, "no longer on sale"), (2, "already started")):
        answer = await buyer.click_raw(drawn[f"🛒 Buy {n}"], page)
        assert answer is not None and answer.show_alert and text in (answer.text or ""), answer
        await h.emu.wait_idle()
        redrawn = buyer.messages[-1]  # the page redrawn as it is now (the first press edits it)
        assert redrawn.message_id == page.message_id and redrawn.content.count("Seller: Sveta") == 2
    h.clock.move(timedelta(seconds=10))

    other_invoice = await buy_from_feed(other)  # "held" is Olga's now
    answer = await buyer.click_raw(BuyCD(action="buy", id=held.id).pack(), page)
    assert answer is not None and answer.text in ("", None)
    offer = await buyer.wait_text("Someone else is paying")
    assert h.emu.calls_to("sendInvoice") and len(h.emu.calls_to("sendInvoice")) == 1
    # Another user's order: cancel it, show it, dispute it.
    order_id = await only_order_id(h, held.id)
    for data, text in (
        (HoldCD(action="cancel", id=order_id).pack(), "not your order"),
        (PurchaseCD(action="show", id=order_id).pack(), "not one of your purchases"),
        (PurchaseCD(action="dispute", id=order_id).pack(), "not your order"),
        ("buy:buy:not-a-number", "out of date"),
        (f"hold:cancel:{2**64}", "out of date"),  # no column holds it: not even looked up
    ):
        answer = await buyer.click_raw(data, offer)
        assert answer is not None and text in (answer.text or ""), (data, answer)
    h.clock.move(timedelta(seconds=10))

    # Tell me when it's free; Olga changes her mind; Boris is told and can buy.
    answer = await buyer.click(offer, "Tell me")
    assert answer is not None and "I'll tell you" in (answer.text or "")
    await other.click(other_invoice, "Changed my mind")
    alert = await buyer.wait_text("you waited for")
    await buyer.click(alert, "Buy")
    invoice = await buyer.wait_message(lambda m: m.invoice is not None)
    assert (await buyer.pay(invoice)).paid
    await buyer.wait_text("Your ticket")
    await other.click_raw(BuyCD(action="buy", id=held.id).pack(), other_invoice)
    assert other.callback_answers[-1].text == "This ticket is already sold."
    ticket, orders, *_ = await ticket_state(h, held.id)
    assert ticket.status == TicketStatus.SOLD
    assert sorted(order.status for order in orders) == [OrderStatus.CANCELLED, OrderStatus.PAID]
    for forged in (own, sold, withdrawn, passed):
        assert (await ticket_state(h, forged.id))[1] == []  # no order was ever opened


async def only_order_id(h: Harness, ticket_id: int) -> int:
    _, orders, *_ = await ticket_state(h, ticket_id)
    (order,) = orders
    return order.id


async def test_payment_of_a_buyer_banned_after_pre_checkout_is_refunded(
    harness_sqlite: Harness, qr_samples: list[BarcodeSample]
) -> None:
    """The money Telegram took is never dropped: banned between pre-checkout and payment, the buyer is refunded."""
    h = harness_sqlite
    seller, buyer = h.person(7301, "Sveta"), h.person(7302, "Boris")
    for person in (seller, buyer):
        await h.register(person)
    (ticket,) = await list_tickets(h, seller, qr_samples[:1])
    invoice = await buy_from_feed(buyer)
    admin = await h.admin()
    await admin.send(f"/ban {buyer.id} fraud")
    await admin.wait_text("banned")

    outcome = payment_lands(buyer, invoice)
    await buyer.wait_text("refunded")
    await h.emu.wait_idle()
    assert [refund.telegram_payment_charge_id for refund in h.emu.refunds] == [outcome.telegram_payment_charge_id]
    state = await ticket_state(h, ticket.id)
    assert state[0].status == TicketStatus.ACTIVE and state[0].buyer_id is None
    assert [order.status for order in state[1]] == [OrderStatus.REFUNDED] and state[2] == [] and state[4] == 0
    assert_only_buyer_got(h, qr_samples[0].text, None)


async def test_a_payment_is_recorded_whatever_step_the_buyer_is_in(
    harness_sqlite: Harness, qr_samples: list[BarcodeSample]
) -> None:
    """Between Buy and paying, the buyer opened the name search of the feed (a step that wants text): the payment
    still sells the ticket, and the step is left as it was."""
    h = harness_sqlite
    seller, buyer = h.person(7311, "Sveta"), h.person(7312, "Boris")
    for person in (seller, buyer):
        await h.register(person)
    (ticket,) = await list_tickets(h, seller, qr_samples[:1])
    page = await open_feed(buyer)
    invoice = await buy_on(buyer, page)
    await buyer.click(page, "Name")
    await buyer.wait_new()  # "type a word of the name"

    assert (await buyer.pay(invoice)).paid
    await buyer.wait_text("Paid")
    await buyer.wait_text("Your ticket")
    state = await ticket_state(h, ticket.id)
    assert state[0].status == TicketStatus.SOLD and [o.status for o in state[1]] == [OrderStatus.PAID]


async def test_an_invoice_telegram_did_not_take_ends_the_hold(
    harness_sqlite: Harness, qr_samples: list[BarcodeSample]
) -> None:
    """sendInvoice fails (a lasting server error, past the update's retries, or refused): the hold ends at once, so
    the ticket is not stuck for the buyer's RESERVATION_MINUTES with no way to pay; pressing Buy again works."""
    h = harness_sqlite
    seller, buyer = h.person(7321, "Sveta"), h.person(7322, "Boris")
    for person in (seller, buyer):
        await h.register(person)
    (ticket,) = await list_tickets(h, seller, qr_samples[:1])
    page = await open_feed(buyer)
    for code in (500, 400):
        h.emu.fail_next("sendInvoice", code, times=hiccups.TRIES if code == 500 else 1)
        await buyer.click(page, "Buy 1")
        await buyer.wait_text("could not be prepared")
        await h.emu.wait_idle()
        state = await ticket_state(h, ticket.id)
        assert state[0].status == TicketStatus.ACTIVE and {o.status for o in state[1]} == {OrderStatus.CANCELLED}
        h.clock.move(timedelta(seconds=2))  # a person between two presses (the throttle runs on this clock)
    assert (await buy_on(buyer, page)).invoice is not None


def offered(message: BotMessage) -> set[int]:
    """The tickets a message's Buy buttons offer."""
    data = [button.get("callback_data", "") for button in message.buttons]
    return {BuyCD.unpack(one).id for one in data if one.startswith("buy:")}


async def test_the_message_bought_from_offers_the_ticket_no_more(
    harness_sqlite: Harness, qr_samples: list[BarcodeSample]
) -> None:
    """Paid: the feed page Buy was pressed on is redrawn (through the outbox) without the ticket; a stale Buy on an
    older page says the ticket is sold (to its buyer: theirs) and redraws that page too."""
    h = harness_sqlite
    seller, buyer, other = h.person(7331, "Sveta"), h.person(7332, "Boris"), h.person(7333, "Olga")
    for person in (seller, buyer, other):
        await h.register(person)
    first, second = await list_tickets(h, seller, qr_samples[:2])
    older = await open_feed(buyer)
    others = await open_feed(other)
    page = await open_feed(buyer)
    assert offered(page) == offered(older) == offered(others) == {first.id, second.id}
    bought = BuyCD.unpack(page.button("🛒 Buy 1")["callback_data"]).id
    invoice = await buy_on(buyer, page)
    assert (await buyer.pay(invoice)).paid
    await buyer.wait_text("Your ticket")
    redrawn = await buyer.wait_message(lambda m: m.message_id == page.message_id)
    assert offered(redrawn) == {first.id, second.id} - {bought}
    (shown,) = [m for m in buyer.messages if m.message_id == page.message_id]  # the chat as it is now
    assert offered(shown) == offered(redrawn) and "Buy 2" not in " ".join(shown.button_texts)

    (data,) = [b["callback_data"] for b in older.buttons if b.get("callback_data", "").startswith(f"buy:buy:{bought}:")]
    answer = await buyer.click_raw(data, older)
    assert answer is not None and answer.show_alert and "You bought this ticket already" in (answer.text or "")
    again = await buyer.wait_message(lambda m: m.message_id == older.message_id)
    assert offered(again) == offered(redrawn)
    answer = await other.click_raw(data, others)
    assert answer is not None and answer.text == "This ticket is already sold."
    assert offered(await other.wait_message(lambda m: m.message_id == others.message_id)) == offered(redrawn)
