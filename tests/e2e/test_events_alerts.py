"""Event pages, saved searches and the fair waiting list, through the emulator: the card's "more tickets" line and
the event's page by price; alerts told on publish and back on sale (matching and not, never the seller, never
twice); three waiters offered a ticket in turn; 500 alert owners told within Telegram's limits."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from db.models import Alert, EventType, Ticket, TicketStatus, User
from db.repo import Repo
from sandbox.messages import BotMessage
from sandbox.users import SimulatedUser
from services import alerts
from services.alerts import AlertSpec
from tests.e2e.conftest import Harness
from tests.e2e.market import list_tickets, open_feed
from tests.e2e.test_sell import list_ticket, registered, summary_of
from tests.factories import SAINT_PETERSBURG, BarcodeSample

FOUND = "A ticket you asked about"
TURN = "Your turn on the waiting list"


async def user_of(h: Harness, person: SimulatedUser) -> User:
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(person.id)
        assert user is not None
        return user


async def alert_count(h: Harness, person: SimulatedUser) -> int:
    user = await user_of(h, person)
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        return int(await session.scalar(select(func.count(Alert.id)).where(Alert.user_id == user.id)) or 0)


async def first_alert_id(h: Harness, person: SimulatedUser) -> int:
    user = await user_of(h, person)
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        return (await Repo(session).alerts.of_user(user.id))[0].id


async def save_alert(h: Harness, person: SimulatedUser, spec: AlertSpec) -> None:
    assert h.app is not None
    user = await user_of(h, person)
    async with h.app.sessionmaker() as session, session.begin():
        await alerts.save(Repo(session), h.clock.now(), user, spec)


async def status_of(h: Harness, ticket_id: int) -> TicketStatus:
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.status


def pause(h: Harness) -> None:
    h.clock.move(timedelta(seconds=2))  # the bot's throttling runs on the frozen clock


async def test_event_page_of_several_sellers_by_price(harness_sqlite: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness_sqlite
    sellers = [h.person(7601 + n, name) for n, name in enumerate(("Sveta", "Oleg", "Ira"))]
    buyer = h.person(7611, "Boris")
    for person in (*sellers, buyer):
        await h.register(person)
    prices = [3100, 1800, 2500]
    for n, (seller, price) in enumerate(zip(sellers, prices, strict=True)):
        await list_tickets(h, seller, qr_samples[n : n + 1], event_name="Сплин", price=price, face_value=3000)
    await list_tickets(h, sellers[0], qr_samples[3:4], event_name="Другое", price=900)  # a different event

    page = await open_feed(buyer)
    assert page.content.count("2 more tickets for this event from") == 3
    assert "more tickets for this event from 1,800" in page.content  # the cheapest of the others
    assert "Другое" in page.content and page.content.count("more ticket") == 3  # the lone event has no line
    await buyer.click(page, "All for 2")
    event = await buyer.wait_text("every ticket on sale, cheapest first")
    lines = [line for line in event.content.splitlines() if line[:2] in {"1.", "2.", "3."}]
    assert [line.split(" — ")[0] for line in lines] == ["1. 1,800\xa0RUB", "2. 2,500\xa0RUB", "3. 3,100\xa0RUB"]
    assert all("row 5" in line for line in lines)  # with seats, so a buyer sees which are together
    assert "Другое" not in event.content
    assert [text for text in event.button_texts if "Buy" in text] == ["🛒 Buy 1", "🛒 Buy 2", "🛒 Buy 3"]
    assert "🔔 Tell me when" in event.button_texts and "⏳ Join the waiting list" in event.button_texts

    answer = await buyer.click(event, "Buy 1")
    assert answer is not None and "held for you" in (answer.text or "")
    invoice = await buyer.wait_message(lambda m: m.invoice is not None)
    assert invoice.invoice is not None and invoice.invoice["total_amount"] == 1080  # the 1,800 one, in Stars

    mine = await open_feed(sellers[1])  # the seller of the held one: no Buy on own cards, the event still linked
    assert "1 more ticket for this event from 2,500" in mine.content

    forged = await buyer.click_raw("ev:open:999999:0:0", event)  # a ticket that does not exist
    assert forged is not None and "That event is gone" in (forged.text or "")


async def test_alerts_match_publish_and_back_on_sale_once(harness: Harness) -> None:
    h = harness
    seller = await registered(h, 7701, "Sveta")
    fan, cheap, other_type, other_city, other_words, any_owner = (
        h.person(7702 + n, name) for n, name in enumerate(("Fan", "Cheap", "Theatre", "Piter", "Metal", "Anyone"))
    )
    for person in (fan, cheap, other_type, other_city, other_words, any_owner):
        await h.register(person)

    # The fan saves the feed's filters (concert, "splean") with a highest price, through the bot.
    page = await open_feed(fan)
    pause(h)
    await fan.click(page, "🎭 Type")
    picker = await fan.wait_text("Which kind of event?")
    pause(h)
    await fan.click(picker, "Concert")
    await fan.wait_message(lambda m: "Concert" in m.content and "Tickets on sale" in m.content)
    pause(h)
    await fan.click(page, "🔎 Name")
    await fan.wait_text("Type a word or two")
    pause(h)
    await fan.send("splean")
    filtered = await fan.wait_message(lambda m: "“splean”" in m.content)
    pause(h)
    await fan.click(filtered, "🔔 Tell me when")
    ask = await fan.wait_text("Up to what price")
    pause(h)
    await fan.send("three thousand")  # refused, nothing saved
    await fan.wait_text("not a price I can read")
    assert await alert_count(h, fan) == 0
    pause(h)
    await fan.send("3000")
    saved = await fan.wait_text("Saved")
    assert "Concert" in saved.content and "“splean”" in saved.content and "up to 3,000" in saved.content
    assert ask.message_id != saved.message_id

    await save_alert(h, cheap, AlertSpec(text="splean", max_price=2000))  # the price is over theirs
    await save_alert(h, other_type, AlertSpec(event_type=EventType.THEATRE, text="splean"))
    await save_alert(h, other_city, AlertSpec(city_id=SAINT_PETERSBURG[0]))
    await save_alert(h, other_words, AlertSpec(text="metallica"))
    await save_alert(h, any_owner, AlertSpec(max_price=5000))
    await save_alert(h, seller.person, AlertSpec(text="splean"))  # never the seller

    await list_ticket(seller, name="Splean", price="2200")
    notice = await fan.wait_text(FOUND)
    assert "Splean" in notice.content and "2,200" in notice.content and "🛒 Buy" in notice.button_texts
    await any_owner.wait_text(FOUND)
    for person in (cheap, other_type, other_city, other_words):
        await person.expect_nothing()
    assert not any(FOUND in m.content for m in seller.person.messages)

    # Back on sale (the fan holds it, then lets it go): nobody is told twice about one ticket.
    pause(h)
    await fan.click(notice, "🛒 Buy")
    invoice = await fan.wait_message(lambda m: m.invoice is not None)
    pause(h)
    await fan.click(invoice, "Changed my mind")
    await fan.wait_message(lambda m: m.message_id == invoice.message_id and not m.buttons)
    for person in (fan, any_owner, cheap):
        await person.expect_nothing()

    # /alerts lists and deletes; the eleventh alert is refused and changes nothing.
    for n in range(9):
        await save_alert(h, fan, AlertSpec(text=f"band {n}"))
    pause(h)
    await fan.send("/alerts")
    listing = await fan.wait_text("Your alerts")
    assert "(10 of 10)" in listing.content and "“splean”" in listing.content
    pause(h)
    await fan.click(filtered, "🔔 Tell me when")
    await fan.wait_text("Up to what price")
    pause(h)
    await fan.click(fan.last_message or filtered, "Any price")
    await fan.wait_text("You already have 10 alerts")
    assert await alert_count(h, fan) == 10
    first = await first_alert_id(h, fan)
    pause(h)
    await fan.click(listing, "✖ 1")
    after = await fan.wait_message(lambda m: m.message_id == listing.message_id and "(9 of 10)" in m.content)
    assert "“splean”" not in after.content
    pause(h)
    stale = await fan.click_raw(f"al:del:{first}", after)  # deleted already
    assert stale is not None and "gone already" in (stale.text or "")
    assert await alert_count(h, fan) == 9


async def offer_to(h: Harness, person: SimulatedUser) -> BotMessage:
    return await person.wait_text(TURN, timeout=10)


async def test_waiting_list_claim_pass_then_public(harness_sqlite: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness_sqlite
    seller, holder, stranger = h.person(7801, "Sveta"), h.person(7802, "Hold"), h.person(7803, "Stranger")
    waiters = [h.person(7811 + n, f"Waiter{n}") for n in range(3)]
    for person in (seller, holder, stranger, *waiters):
        await h.register(person)
    listed = await list_tickets(h, seller, qr_samples[:2], event_name="Hot", price=2000, face_value=2000)
    first, second = listed[1], listed[0]  # the feed's "Buy 1" is the newest listing: the holder holds these in turn
    await save_alert(h, stranger, AlertSpec(text="hot"))
    pages = {person.id: await open_feed(person) for person in waiters}

    invoices = []
    for _ in range(2):  # the holder holds both tickets
        pause(h)
        await holder.click(await open_feed(holder), "Buy 1")
        invoices.append(await holder.wait_message(lambda m: m.invoice is not None))
    for person in waiters:  # Buy on a reserved event offers the waiting list; they join in this order
        pause(h)
        await person.click(pages[person.id], "Buy 1")
        refusal = await person.wait_text("Someone else is paying")
        pause(h)
        answer = await person.click(refusal, "Join the waiting list")
        assert answer is not None and "on the waiting list" in (answer.text or "")

    # The first ticket back on sale: three waiters, one ticket: offered to the first waiter alone.
    pause(h)
    await holder.click(invoices[0], "Changed my mind")
    offer = await offer_to(h, waiters[0])
    assert "Hot" in offer.content and "10 minutes" in offer.content
    pause(h)
    refused = await waiters[1].click(pages[waiters[1].id], "Buy 1")  # not their turn: nothing changes
    assert refused is None or "held for you" not in (refused.text or "")
    await waiters[1].wait_text("offered to the people on the event's waiting list first")
    assert await status_of(h, first.id) == TicketStatus.ACTIVE  # the seller sees it on sale the whole time
    pause(h)
    await waiters[0].click(offer, "🛒 Buy")
    claim = await waiters[0].wait_message(lambda m: m.invoice is not None)
    assert (await waiters[0].pay(claim)).paid
    await waiters[0].wait_text("Your ticket")
    assert await status_of(h, first.id) == TicketStatus.SOLD

    # The second: two waiters left, each gets the window in turn, then the public.
    pause(h)
    await holder.click(invoices[1], "Changed my mind")
    offer = await offer_to(h, waiters[1])
    assert h.app is not None
    h.clock.move(timedelta(minutes=11))
    await h.app.scheduler.sweeper.pass_offers()
    offer = await offer_to(h, waiters[2])
    pause(h)
    late = await waiters[1].click(pages[waiters[1].id], "Buy 2")  # the window is over
    assert late is None or "held for you" not in (late.text or "")
    await waiters[1].wait_text("offered to the people on the event's waiting list first")
    h.clock.move(timedelta(minutes=11))
    await h.app.scheduler.sweeper.pass_offers()
    notice = await stranger.wait_text(FOUND, timeout=10)  # nobody left: public, and the alerts are told
    assert not any(TURN in m.content for m in waiters[0].messages[-3:])
    pause(h)
    await stranger.click(notice, "🛒 Buy")
    bought = await stranger.wait_message(lambda m: m.invoice is not None)
    assert (await stranger.pay(bought)).paid
    await stranger.wait_text("Your ticket")
    assert await status_of(h, second.id) == TicketStatus.SOLD


async def test_five_hundred_alert_owners_within_telegrams_limits(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller = await registered(h, 7901, "Sveta")
    assert h.app is not None
    owners = [h.person(800_000 + n, f"Fan{n}") for n in range(500)]
    for person in owners:
        person.started = True  # they opened the bot once, long ago: it may write to them
    async with h.app.sessionmaker() as session, session.begin():
        repo = Repo(session)
        for person in owners:  # straight into the database, not through /start
            user = User(telegram_id=person.id, phone_e164=f"+7926{person.id:07d}", full_name=person.first_name,
                        first_name=person.first_name, language="en", created_at=h.clock.now())  # fmt: skip
            session.add(user)
        await session.flush()
        for user in (await session.scalars(select(User).where(User.telegram_id >= 800_000))).all():
            await alerts.save(repo, h.clock.now(), user, AlertSpec(text="splean"))

    summary = await summary_of(seller, name="Splean")
    h.emu.flood_limits("strict")  # from the publish on: the wizard's own quick replies are the test's typing speed
    started = time.monotonic()
    await seller.click(summary, "Publish")
    for person in owners:
        await person.wait_text(FOUND, timeout=60)
    took = time.monotonic() - started
    assert took >= 500 / 30 - 2, took  # no faster than Telegram allows
    await h.emu.wait_idle()
    h.emu.flood.assert_kept()
    sent = [call for call in h.emu.calls if call.method.lower() == "sendmessage" and FOUND in call.params["text"]]
    assert sorted(call.params["chat_id"] for call in sent) == [person.id for person in owners]  # each once
