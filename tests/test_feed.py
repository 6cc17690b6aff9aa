"""The feed: order, keyset pages (also while tickets are added and sold), filters and search, on SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from db.models import EventType, TicketStatus
from db.repo import Repo
from db.repositories.feed import Key, like_contains
from handlers.shared.paging import encode, page_ref
from services import orders
from services.feed import QUERY_MAX, Direction, FeedPage, Filters, PageRef, clean_search, fold, key_of, load_page
from tests.factories import SAINT_PETERSBURG, make_settings, make_ticket, make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NO_FILTERS = Filters()


def ids(page: FeedPage) -> list[int]:
    return [card.ticket.id for card in page.cards]


async def walk(repo: Repo, filters: Filters = NO_FILTERS) -> list[int]:
    """Every ticket id the feed shows, pressing Next from the first page to the last."""
    seen: list[int] = []
    page = await load_page(repo, filters, PageRef(), NOW)
    seen += ids(page)
    while page.has_older:
        page = await load_page(repo, filters, PageRef(page.last, Direction.OLDER), NOW)
        seen += ids(page)
    return seen


async def test_pages_newest_first_next_and_previous(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    tickets = [await make_ticket(repo, seller, NOW, created_at=NOW - timedelta(minutes=i)) for i in range(12)]
    expected = [ticket.id for ticket in tickets]  # created newest first
    first = await load_page(repo, Filters(), PageRef(), NOW)
    assert ids(first) == expected[:5]
    assert (first.has_newer, first.has_older) == (False, True)
    second = await load_page(repo, Filters(), PageRef(first.last, Direction.OLDER), NOW)
    assert ids(second) == expected[5:10]
    assert (second.has_newer, second.has_older) == (True, True)
    third = await load_page(repo, Filters(), PageRef(second.last, Direction.OLDER), NOW)
    assert ids(third) == expected[10:]
    assert (third.has_newer, third.has_older) == (True, False)
    back = await load_page(repo, Filters(), PageRef(third.first, Direction.NEWER), NOW)
    assert ids(back) == expected[5:10]
    assert (back.has_newer, back.has_older) == (True, True)
    redraw = await load_page(repo, Filters(), PageRef(back.first, Direction.AT), NOW)
    assert ids(redraw) == ids(back)
    assert await walk(repo) == expected


async def test_equal_timestamps_are_ordered_by_id_and_none_is_skipped(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    tickets = [await make_ticket(repo, seller, NOW, created_at=NOW - timedelta(minutes=i // 4)) for i in range(13)]
    expected = sorted(tickets, key=lambda t: (t.created_at, t.id), reverse=True)
    assert await walk(repo) == [ticket.id for ticket in expected]


async def test_pages_hold_while_tickets_are_added_and_sold(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    old = [await make_ticket(repo, seller, NOW, created_at=NOW - timedelta(hours=1, minutes=i)) for i in range(10)]
    first = await load_page(repo, Filters(), PageRef(), NOW)
    second = await load_page(repo, Filters(), PageRef(first.last, Direction.OLDER), NOW)
    assert ids(second) == [t.id for t in old[5:]]
    # Three new listings arrive and one ticket of the first page is sold while the buyer looks at page two.
    new = [await make_ticket(repo, seller, NOW, created_at=NOW - timedelta(minutes=i)) for i in range(3)]
    await repo.orders.move_ticket(old[1].id, TicketStatus.ACTIVE, TicketStatus.SOLD, NOW)
    back = await load_page(repo, Filters(), PageRef(second.first, Direction.NEWER), NOW)
    assert ids(back) == [new[2].id, old[0].id, old[2].id, old[3].id, old[4].id]
    assert back.has_newer and back.has_older
    top = await load_page(repo, Filters(), PageRef(back.first, Direction.NEWER), NOW)
    assert ids(top) == [t.id for t in new] + [old[0].id, old[2].id]
    assert not top.has_newer
    # Next from page two's stale edge still continues below it, never repeating a ticket.
    assert await walk(repo) == [t.id for t in new] + [t.id for t in old if t is not old[1]]


async def test_stale_edges_fall_back_to_the_nearest_full_page(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    tickets = [await make_ticket(repo, seller, NOW, created_at=NOW - timedelta(minutes=i)) for i in range(7)]
    last = await load_page(repo, Filters(), PageRef(key_of(tickets[4]), Direction.OLDER), NOW)
    assert ids(last) == [tickets[5].id, tickets[6].id]
    for ticket in tickets[5:]:
        await repo.orders.move_ticket(ticket.id, TicketStatus.ACTIVE, TicketStatus.WITHDRAWN, NOW)
    # Next from a page whose tickets are all gone: the last page there is.
    gone = await load_page(repo, Filters(), PageRef(key_of(tickets[4]), Direction.OLDER), NOW)
    assert ids(gone) == [t.id for t in tickets[:5]]
    assert (gone.has_newer, gone.has_older) == (False, False)
    # Previous from near the top: the first page, full.
    top = await load_page(repo, Filters(), PageRef(key_of(tickets[2]), Direction.NEWER), NOW)
    assert ids(top) == [t.id for t in tickets[:5]]


async def test_only_tickets_on_sale_for_future_events(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    on_sale = await make_ticket(repo, seller, NOW)
    for status in (TicketStatus.RESERVED, TicketStatus.SOLD, TicketStatus.EXPIRED, TicketStatus.WITHDRAWN,
                   TicketStatus.BLOCKED):  # fmt: skip
        await make_ticket(repo, seller, NOW, status=status)
    await make_ticket(repo, seller, NOW, event_at=NOW - timedelta(minutes=1))  # not yet swept
    assert await walk(repo) == [on_sale.id]


async def test_filters_by_type_city_and_words(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    make = make_ticket
    splin = await make(repo, seller, NOW, event_name="Сплин — Новый альбом")
    yolka = await make(repo, seller, NOW, event_name="ЁЛКА live", city=SAINT_PETERSBURG)
    hamlet = await make(repo, seller, NOW, event_name="Гамлет", event_type=EventType.THEATRE)
    zenit = await make(repo, seller, NOW, event_name="Zenit — Spartak", event_type=EventType.SPORT,
                       city=SAINT_PETERSBURG)  # fmt: skip
    percent = await make(repo, seller, NOW, event_name="100% Stand_up", event_type=EventType.STANDUP)
    assert set(await walk(repo, Filters(event_type=EventType.THEATRE))) == {hamlet.id}
    assert set(await walk(repo, Filters(city_id=SAINT_PETERSBURG[0]))) == {yolka.id, zenit.id}
    spb_sport = Filters(event_type=EventType.SPORT, city_id=SAINT_PETERSBURG[0])
    assert set(await walk(repo, spb_sport)) == {zenit.id}
    searches = {
        "сплин": {splin.id},
        "СПЛИН альбом": {splin.id},  # every word, any case
        "ёлка": {yolka.id},  # ё = е
        "елка LIVE": {yolka.id},
        "zenit spartak": {zenit.id},
        "%": {percent.id},  # LIKE wildcards are literal
        "_": {percent.id},
        "a_b": set(),
        "гамлет сплин": set(),
    }
    for text, expected in searches.items():
        assert set(await walk(repo, Filters(text=text))) == expected, text


async def test_card_shows_the_seller_first_name_and_completed_sales(repo: Repo) -> None:
    seller = await make_user(repo, NOW, first_name="Ivan")
    other = await make_user(repo, NOW, first_name="Olga")
    buyer = await make_user(repo, NOW)
    sold = await make_ticket(repo, seller, NOW - timedelta(days=1))
    settings = make_settings()
    hold = await orders.hold(repo, settings, NOW, buyer, sold.id)
    payment = orders.Payment(hold.order.public_id, hold.charge.currency, hold.charge.total, "charge-1")
    assert (await orders.record_payment(repo, settings, NOW, buyer, payment)).outcome == orders.Outcome.SOLD
    on_sale = await make_ticket(repo, seller, NOW)
    others = await make_ticket(repo, other, NOW - timedelta(minutes=1))
    page = await load_page(repo, Filters(), PageRef(), NOW)
    summary = {card.ticket.id: (card.seller.first_name, card.seller.completed_sales) for card in page.cards}
    assert summary == {on_sale.id: ("Ivan", 1), others.id: ("Olga", 0)}


def test_fold_and_like_escaping() -> None:
    assert fold("  ЁЖИК  в   Тумане ") == "ежик в тумане"
    assert fold("STRASSE Straße") == "strasse strasse"
    assert like_contains("50%_off\\") == "%50\\%\\_off\\\\%"


def test_filters_round_trip_through_fsm_data() -> None:
    filters = Filters(EventType.CINEMA, 524901, "Дюна")
    assert Filters.from_data(filters.to_data()) == filters
    assert Filters.from_data(None) == Filters()
    assert Filters.from_data({"type": "nonsense", "city": "x"}) == Filters()
    assert not Filters().active and filters.active


@given(st.text(max_size=200))
def test_a_search_is_something_to_search_for_or_refused(text: str) -> None:
    cleaned = clean_search(text)
    if cleaned is None:
        assert not any(ch.isalnum() for ch in " ".join(text.split())[:QUERY_MAX])
    else:
        assert cleaned == " ".join(cleaned.split()) and 0 < len(cleaned) <= QUERY_MAX
        assert any(ch.isalnum() for ch in cleaned) and cleaned in " ".join(text.split())


LIKE_ALPHABET = "aB%_\\ x"


@given(st.text(LIKE_ALPHABET, min_size=1, max_size=8), st.text(LIKE_ALPHABET, max_size=16))
def test_like_pattern_matches_exactly_the_texts_containing_the_word(word: str, text: str) -> None:
    database = sqlite3.connect(":memory:")
    matched = database.execute("SELECT ? LIKE ? ESCAPE '\\'", (text, like_contains(word))).fetchone()[0]
    assert bool(matched) == (word.lower() in text.lower())  # SQLite's LIKE folds ASCII case


@given(st.integers(), st.integers(), st.text(max_size=3))
def test_any_page_numbers_in_a_button_give_a_page(at: int, ticket_id: int, direction: str) -> None:
    ref = page_ref(at, ticket_id, direction)  # forged numbers: the first page, never an error
    assert ref == PageRef() or (ref.key is not None and ref.key.ticket_id == ticket_id)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
       st.integers(1, 2**62), st.sampled_from(Direction))  # fmt: skip
def test_page_keys_survive_the_button(created_at: datetime, ticket_id: int, direction: Direction) -> None:
    key = Key(created_at, ticket_id)
    assert page_ref(*encode(key), direction.value) == PageRef(key, direction)
