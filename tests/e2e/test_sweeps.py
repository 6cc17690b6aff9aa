"""What time does, through the real bot: the scheduler's start-up run catches up a 6-hour outage at once; a hold
that runs out while the buyer looks at the invoice is swept, the buyer and the people waiting are told, and Telegram's
pre-checkout is refused. The harness clock is moved, never slept; a sweep is run as the scheduler's job runs it."""

from __future__ import annotations

from datetime import timedelta

from db.models import OrderStatus, TicketStatus
from db.repo import Repo
from tests.e2e.conftest import ADMIN_ID, Harness
from tests.e2e.market import buy_from_feed, list_tickets


async def statuses(h: Harness, ticket_id: int) -> tuple[TicketStatus, list[OrderStatus]]:
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        repo = Repo(session)
        ticket = await repo.orders.ticket(ticket_id)
        assert ticket is not None
        history = await repo.history.of_ticket(ticket_id)
        return ticket.status, [change.status for change in history]


async def test_an_outage_of_six_hours_is_caught_up_at_start(harness: Harness) -> None:
    h = harness
    seller = h.person(7701, "Sveta")
    await h.register(seller)
    await h.admin()  # registered, but never sent /admin: the start-up gives their chat the admin commands
    await h.emu.wait_idle()  # the account is committed after the welcome goes out
    (tonight,) = await list_tickets(h, seller, event_name="Сплин", event_at=h.clock.now() + timedelta(hours=2))
    (next_week,) = await list_tickets(h, seller, event_name="Би-2", event_at=h.clock.now() + timedelta(days=7))
    await h.stop()
    h.clock.move(timedelta(hours=6))
    await h.start()  # no sweep is asked for: the scheduler's start-up run does it
    told = await seller.wait_text("off sale", timeout=10)
    assert "Сплин" in told.content and "Би-2" not in told.content
    assert "ban" in [command["command"] for command in h.emu.commands_for(ADMIN_ID)]
    assert "ban" not in [command["command"] for command in h.emu.commands_for(seller.id)]
    assert await statuses(h, tonight.id) == (TicketStatus.EXPIRED, [TicketStatus.EXPIRED])
    assert (await statuses(h, next_week.id))[0] == TicketStatus.ACTIVE
    assert h.app is not None
    await h.app.scheduler.sweeper.run_all()  # the next run has nothing to add
    await seller.expect_nothing()


async def test_a_hold_runs_out_while_the_buyer_is_on_the_payment_screen(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, buyer, waiter = h.person(7711, "Sveta"), h.person(7712, "Boris"), h.person(7713, "Vera", language="ru")
    for person in (seller, buyer, waiter):
        await h.register(person)
    await h.emu.wait_idle()  # the accounts are committed after the welcomes go out
    (ticket,) = await list_tickets(h, seller, event_name="Земфира")
    await waiter.send("/feed")
    page = await waiter.wait_text("Земфира")
    invoice = await buy_from_feed(buyer)
    await waiter.click(page, "Купить 1")  # «Купить 1» on the page drawn before: held now, so the bot offers to wait
    offer = await waiter.wait_new()
    await waiter.click(offer, offer.button_texts[0])
    assert h.app is not None

    h.clock.move(timedelta(minutes=14, seconds=59))
    assert (await h.app.scheduler.sweeper.run_all()).holds == 0
    h.clock.move(timedelta(seconds=1))  # the hold's last second is over
    assert (await h.app.scheduler.sweeper.run_all()).holds == 1
    told = await buyer.wait_text("back on sale")
    assert "Земфира" in told.content
    assert "Земфира" in (await waiter.wait_text("Земфира")).content  # the waiter's "free again" notice
    assert await statuses(h, ticket.id) == (TicketStatus.ACTIVE, [TicketStatus.RESERVED, TicketStatus.ACTIVE])

    declined = await buyer.pay(invoice)  # the invoice is still on the screen: Telegram asks the bot first
    assert declined.status == "declined" and "hold ran out" in (declined.error_message or "")
    assert (await statuses(h, ticket.id))[0] == TicketStatus.ACTIVE
    await seller.expect_nothing()


async def test_the_seller_is_told_once_when_the_escrow_releases(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, buyer = h.person(7721, "Sveta"), h.person(7722, "Boris")
    for person in (seller, buyer):
        await h.register(person)
    (ticket,) = await list_tickets(h, seller, event_name="Кино", event_at=h.clock.now() + timedelta(days=2))
    assert (await buyer.pay(await buy_from_feed(buyer))).paid
    await seller.wait_text("sold")
    assert h.app is not None

    h.clock.move(timedelta(days=2, hours=h.settings.escrow_hours) - timedelta(seconds=1))
    assert (await h.app.scheduler.sweeper.run_all()).payouts == 0
    h.clock.move(timedelta(seconds=1))  # the event started ESCROW_HOURS ago, to the second
    assert (await h.app.scheduler.sweeper.run_all()).payouts == 1
    told = await seller.wait_text("is yours")
    assert "Кино" in told.content and "2,000\u00a0RUB" in told.content
    assert (await h.app.scheduler.sweeper.run_all()).payouts == 0
    await seller.expect_nothing()
    assert (await statuses(h, ticket.id))[0] == TicketStatus.SOLD
