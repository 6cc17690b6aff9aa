"""The feed as buyers use it: pages edited in place, filters and search, cards, the seller's own tickets."""

from __future__ import annotations

from datetime import timedelta

from db.models import EventType
from sandbox.messages import BotMessage
from sandbox.users import SimulatedUser
from tests.e2e.conftest import Harness
from tests.e2e.market import list_tickets
from tests.factories import SAINT_PETERSBURG, YEKATERINBURG, BarcodeSample

FEED = "🎫 Tickets"


async def open_feed(person: SimulatedUser) -> BotMessage:
    await person.press(FEED)
    return await person.wait_text("Tickets on sale")


def card_count(message: BotMessage) -> int:
    return sum(1 for line in message.content.splitlines() if line[:2] in {f"{n}." for n in range(1, 6)})


async def test_pages_cards_and_own_tickets(harness_sqlite: Harness, qr_samples: list[BarcodeSample]) -> None:
    h = harness_sqlite
    seller, buyer = h.person(7101, "Sveta"), h.person(7102, "Boris")
    await h.register(seller)
    await h.register(buyer)
    # Seven tickets, one a minute: the newest listing is "Show 6".
    for n in range(7):
        await list_tickets(h, seller, qr_samples[n : n + 1], event_name=f"Show {n}", price=2400, face_value=2000)
        h.clock.move(timedelta(minutes=1))

    page = await open_feed(buyer)
    assert card_count(page) == 5
    assert page.content.index("Show 6") < page.content.index("Show 2")
    assert "Show 1" not in page.content
    assert "Moscow, Crocus City Hall" in page.content
    assert "Moscow time" in page.content  # the local time, in the city's zone
    assert "📍 Партер, row 5" in page.content  # the seat with its labels, in the reader's language
    assert "2,400" in page.content and "face value" in page.content and "+20%" in page.content
    assert "Seller: Sveta" in page.content and "No ratings yet · 0 sales" in page.content
    assert page.button_texts[:5] == [f"🛒 Buy {n}" for n in range(1, 6)]
    assert "Next ▶️" in page.button_texts and "◀️ Previous" not in page.button_texts
    for sample in qr_samples[:7]:  # never a barcode, never a phone
        assert sample.text.strip() not in page.content
    assert "+7916" not in page.content and "7101" not in page.content

    await buyer.click(page, "Next ▶️")
    second = await buyer.wait_message(lambda m: "Show 1" in m.content)
    assert second.message_id == page.message_id  # edited in place
    assert card_count(second) == 2 and "Show 0" in second.content and "Show 2" not in second.content
    assert "Next ▶️" not in second.button_texts
    await buyer.click(second, "◀️ Previous")
    back = await buyer.wait_message(lambda m: "Show 6" in m.content)
    assert back.message_id == page.message_id and card_count(back) == 5

    mine = await open_feed(seller)
    assert mine.content.count("Yours") == 5
    assert not any(text.startswith("🛒") for text in mine.button_texts)
    await buyer.expect_nothing()


async def test_pages_hold_across_new_listings(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, buyer = h.person(7111, "Sveta"), h.person(7112, "Boris")
    await h.register(seller)
    await h.register(buyer)
    for n in range(8):
        await list_tickets(h, seller, event_name=f"Old {n}")
        h.clock.move(timedelta(minutes=1))
    page = await open_feed(buyer)
    assert "Old 7" in page.content and "Old 3" in page.content and "Old 2" not in page.content
    for n in range(4):  # listed while the buyer reads page 1
        await list_tickets(h, seller, event_name=f"New {n}")
        h.clock.move(timedelta(minutes=1))
    await buyer.click(page, "Next ▶️")
    second = await buyer.wait_message(lambda m: "Old 2" in m.content)
    assert "Old 0" in second.content and "Old 3" not in second.content and "New" not in second.content
    await buyer.click(second, "◀️ Previous")
    first = await buyer.wait_message(lambda m: "Old 3" in m.content)
    assert "Old 7" in first.content and "New" not in first.content
    assert "◀️ Previous" in first.button_texts  # the new listings are above
    await buyer.click(first, "◀️ Previous")
    newest = await buyer.wait_message(lambda m: "New 3" in m.content)
    assert "New 0" in newest.content and "Old 7" in newest.content
    assert "◀️ Previous" not in newest.button_texts


async def listed_for_filters(h: Harness) -> SimulatedUser:
    """Four tickets of several types and cities; returns a registered Russian-speaking buyer."""
    seller, buyer = h.person(7121, "Sveta"), h.person(7122, "Boris", language="ru")
    await h.register(seller)
    await h.register(buyer)
    await list_tickets(h, seller, event_name="Сплин", event_type=EventType.CONCERT)
    await list_tickets(h, seller, event_name="Ёлка и друзья", event_type=EventType.CONCERT, city=SAINT_PETERSBURG)
    await list_tickets(h, seller, event_name="Гамлет", event_type=EventType.THEATRE, city=YEKATERINBURG)
    await list_tickets(h, seller, event_name="100% Stand-up", event_type=EventType.STANDUP)
    return buyer


async def test_filters_by_type_and_city(harness_sqlite: Harness) -> None:
    buyer = await listed_for_filters(harness_sqlite)
    await buyer.press("🎫 Билеты")
    page = await buyer.wait_text("Билеты в продаже")
    assert all(name in page.content for name in ("Сплин", "Ёлка", "Гамлет", "100% Stand-up"))

    await buyer.click(page, "Тип")
    picker = await buyer.wait_message(lambda m: "Театр" in m.button_texts)
    await buyer.click(picker, "Театр")
    theatre = await buyer.wait_message(lambda m: "Гамлет" in m.content)
    assert "Сплин" not in theatre.content and "Фильтры: Театр" in theatre.content
    assert "Екатеринбург" in theatre.content  # the card's city, in Russian
    await buyer.click(theatre, "Сбросить")
    cleared = await buyer.wait_message(lambda m: "Сплин" in m.content)
    assert "Фильтры:" not in cleared.content

    await buyer.click(cleared, "Город")
    await buyer.wait_text("Напишите название города")
    await buyer.send("санкт-петербург")
    choices = await buyer.wait_message(lambda m: bool(m.buttons))
    await buyer.click(choices, choices.button_texts[0])
    spb = await buyer.wait_message(lambda m: "Ёлка" in m.content)
    assert "Сплин" not in spb.content and "Санкт-Петербург" in spb.content.split("\n\n")[0]


async def test_search_by_name(harness_sqlite: Harness) -> None:
    buyer = await listed_for_filters(harness_sqlite)
    await buyer.send("/feed")
    page = await buyer.wait_text("Билеты в продаже")
    await buyer.click(page, "Название")
    await buyer.wait_text("Напишите слово")
    await buyer.send("ЕЛКА")  # case and ё/е do not matter
    found = await buyer.wait_message(lambda m: "Ёлка" in m.content and "ЕЛКА" in m.content)
    assert card_count(found) == 1
    harness_sqlite.clock.move(timedelta(seconds=10))  # a person reads; the throttle (on the bot's clock) refills

    await buyer.click(found, "Название")
    await buyer.wait_text("Напишите слово")
    await buyer.send("100%")  # a LIKE wildcard is taken literally
    percent = await buyer.wait_message(lambda m: "Stand-up" in m.content)
    assert card_count(percent) == 1
    await buyer.click(percent, "Название")
    await buyer.wait_text("Напишите слово")
    await buyer.send("...")
    await buyer.wait_text("хотя бы одну букву")
    await buyer.send("Нирвана")
    nothing = await buyer.wait_text("ничего нет")
    assert card_count(nothing) == 0
    await buyer.click(nothing, "Сбросить")
    await buyer.wait_message(lambda m: "Гамлет" in m.content and "Сплин" in m.content)
