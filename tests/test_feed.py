"""The feed: order, keyset pages (also while tickets are added and sold), filters and search, on SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
from alembic import command
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy import select

from db.engine import create_engine, create_sessionmaker
from db.migrate import alembic_config, upgrade_to_head
from db.models import EventType, OrderStatus, Ticket, TicketStatus
from db.repo import Repo
from db.repositories.feed import RARE, Key, like_contains
from handlers.shared.paging import encode, page_ref
from services import orders
from services.feed import QUERY_MAX, Direction, FeedPage, Filters, PageRef, clean_search, fold, key_of, load_page
from tests.factories import SAINT_PETERSBURG, make_payment_rules, make_ticket, make_user

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


async def test_next_from_a_ticket_gone_asks_what_is_newer(repo: Repo) -> None:
    """Next starts below the key; whether a Previous page exists does not depend on the key's ticket still being
    on sale (it is what is newer while it is there)."""
    seller = await make_user(repo, NOW)
    tickets = [await make_ticket(repo, seller, NOW, created_at=NOW - timedelta(minutes=i)) for i in range(12)]
    expected = [ticket.id for ticket in tickets]
    key = key_of(tickets[4])  # the first page's last card
    await repo.orders.move_ticket(tickets[4].id, TicketStatus.ACTIVE, TicketStatus.SOLD, NOW)
    second = await load_page(repo, Filters(), PageRef(key, Direction.OLDER), NOW)
    assert ids(second) == expected[5:10]
    assert (second.has_newer, second.has_older) == (True, True)
    for ticket in tickets[:4]:
        await repo.orders.move_ticket(ticket.id, TicketStatus.ACTIVE, TicketStatus.WITHDRAWN, NOW)
    alone = await load_page(repo, Filters(), PageRef(key, Direction.OLDER), NOW)
    assert ids(alone) == expected[5:10]
    assert (alone.has_newer, alone.has_older) == (False, True)
    last = await load_page(repo, Filters(), PageRef(key_of(tickets[9]), Direction.OLDER), NOW)
    assert ids(last) == expected[10:]
    assert (last.has_newer, last.has_older) == (True, False)


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
    settings = make_payment_rules()
    hold = await orders.hold(repo, settings, NOW, buyer, sold.id)
    payment = orders.Payment(hold.order.public_id, hold.charge.currency, hold.charge.total, "charge-1")
    assert (await orders.record_payment(repo, settings, NOW, buyer, payment)).outcome == orders.Outcome.SOLD
    on_sale = await make_ticket(repo, seller, NOW)
    others = await make_ticket(repo, other, NOW - timedelta(minutes=1))
    page = await load_page(repo, Filters(), PageRef(), NOW)
    summary = {card.ticket.id: (card.seller.first_name, card.seller.sales) for card in page.cards}
    assert summary == {on_sale.id: ("Ivan", 1), others.id: ("Olga", 0)}


def test_fold_and_like_escaping() -> None:
    assert fold("  ЁЖИК  в   Тумане ") == "ежик в тумане"
    assert fold("STRASSE Straße") == "strasse strasse"
    assert fold("Beyoncé Motörhead Йошкар-Ола Ёлка") == "beyonce motorhead йошкар-ола елка"
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


NAME_ALPHABET = "abcéÉdeфёЁйЙиКк %_-"


@hypothesis.settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(NAME_ALPHABET, min_size=1, max_size=20), min_size=1, max_size=6), st.data())
async def test_a_search_finds_what_the_rule_finds(repo: Repo, names: list[str], data: st.DataObject) -> None:
    """The search index (FTS5 on SQLite, pg_trgm on PostgreSQL) answers exactly as the rule: every folded word
    inside the folded name. The names pile up over the examples; the rule reads them all back."""
    seller = await make_user(repo, NOW)
    for name in names:
        await make_ticket(repo, seller, NOW, event_name=name)
    inside = st.sampled_from(names).flatmap(lambda name: st.tuples(st.integers(0, len(name)), st.integers(0, 20)))
    start, length = data.draw(inside)
    query = data.draw(st.one_of(st.sampled_from(names).map(lambda name: name[start : start + length]),
                                st.text(NAME_ALPHABET, max_size=12)))  # fmt: skip
    words = Filters(text=query).words
    every = (await repo.session.execute(select(Ticket.id, Ticket.event_name))).all()
    expected = sorted((id_ for id_, name in every if all(word in fold(name) for word in words)), reverse=True)
    assert sorted(await walk(repo, Filters(text=query)), reverse=True) == expected, query


async def test_the_search_index_follows_every_write(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    ticket = await make_ticket(repo, seller, NOW, event_name="Уникальныйспектакль")
    assert await walk(repo, Filters(text="спектакль")) == [ticket.id]
    ticket.event_name, ticket.event_name_folded = "Beyoncé", fold("Beyoncé")
    await repo.session.flush()
    assert await walk(repo, Filters(text="спектакль")) == []
    assert await walk(repo, Filters(text="BEYONCE")) == [ticket.id]  # diacritics and case folded
    await repo.session.delete(ticket)
    await repo.session.flush()
    assert await walk(repo, Filters(text="beyonce")) == []


async def test_a_rare_word_among_many_common_ones(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    common = [await make_ticket(repo, seller, NOW, event_name=f"Сплин тур {i}") for i in range(RARE + 5)]
    rare = await make_ticket(repo, seller, NOW, event_name="Сплин Ёлочка")
    assert await walk(repo, Filters(text="ёлоч")) == [rare.id]
    first = await load_page(repo, Filters(text="сплин"), PageRef(), NOW)  # a common word: the feed order
    assert ids(first) == [rare.id, *[ticket.id for ticket in reversed(common)][:4]]


async def test_completed_sales_follow_the_order_status(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    buyer = await make_user(repo, NOW)
    ticket = await make_ticket(repo, seller, NOW - timedelta(days=1))
    hold = await orders.hold(repo, make_payment_rules(), NOW, buyer, ticket.id)
    assert (await repo.trust.records([seller.id]))[seller.id].sales == 0
    await repo.orders.move(hold.order.id, [OrderStatus.PENDING], OrderStatus.PAID)
    assert (await repo.trust.records([seller.id]))[seller.id].sales == 1
    await repo.orders.move(hold.order.id, [OrderStatus.PAID], OrderStatus.REFUNDED)  # a dispute's refund
    assert (await repo.trust.records([seller.id]))[seller.id].sales == 0


async def test_migration_0006_indexes_and_counts_what_was_there(tmp_path: Path) -> None:
    """A database from before 0006 (names folded the old way, a sale made): its search index and its sellers'
    counters are filled from the rows."""
    path = tmp_path / "before.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0004"))
    database = sqlite3.connect(path)
    when = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731  # as SQLAlchemy stores it
    for user_id in (1, 2):
        database.execute(
            "INSERT INTO users (id, telegram_id, phone_e164, full_name, first_name, language, created_at) "
            "VALUES (?, ?, ?, 'A B', 'A', 'en', ?)", (user_id, user_id, f"+7900000000{user_id}", when(NOW)),
        )  # fmt: skip
    for ticket_id, name, status in ((1, "Beyoncé live", "active"), (2, "Сплин", "sold")):
        database.execute(
            "INSERT INTO tickets (id, seller_id, event_name, event_name_folded, event_type, city_id, city_name, "
            "city_tz, venue, event_at, face_value, price, currency, barcode_ciphertext, barcode_format, photo_key, "
            "photo_phash, status, created_at, updated_at) VALUES (?, 1, ?, ?, 'concert', 1, 'Moscow', "
            "'Europe/Moscow', 'Hall', ?, 100, 100, 'RUB', x'00', 'QRCode', 'k', '0', ?, ?, ?)",
            (ticket_id, name, name.casefold(), when(NOW + timedelta(days=9)), status, when(NOW), when(NOW)),
        )  # fmt: skip
    database.execute(
        "INSERT INTO orders (id, public_id, ticket_id, buyer_id, amount, fee_amount, currency, status, created_at, "
        "expires_at) VALUES (1, 'p1', 2, 2, 100, 0, 'RUB', 'paid', ?, ?)", (when(NOW), when(NOW)),
    )  # fmt: skip
    database.commit()
    database.close()
    await upgrade_to_head(engine)
    async with create_sessionmaker(engine)() as session:
        repo = Repo(session)
        assert await walk(repo, Filters(text="beyonce")) == [1]  # refolded, then indexed
        assert (await repo.trust.records([1]))[1].sales == 1
    await engine.dispose()
