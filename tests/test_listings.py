"""The listing rules (services/listings.py) on SQLite and PostgreSQL, and the wizard's draft."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import LANGUAGES, LOCALES_DIR, read_catalog
from db.engine import create_sessionmaker
from db.models import EventType, PhotoHashBand, TicketStatus, TicketStatusChange, User
from db.repo import Repo
from handlers.my_tickets.views import EMPTY_KEYS, STATUS_KEYS, TAB_KEYS
from handlers.sell.views import ASK_KEYS, STEP_KEYS
from services import amounts, dates, listings, pricing, seats, text
from services.barcode_values import Barcode
from services.crypto import Secrets
from services.draft import STEPS, Draft, SealedBarcode, Step
from services.errors import DomainError
from services.listings import Tab
from services.seats import Seat
from tests.factories import make_listing_rules, make_ticket, make_user

SECRETS = Secrets(Fernet.generate_key(), b"f" * 32)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RULES = make_listing_rules()
PHASH = "abfa8569d40cd1c5"


def photo(label: str) -> str:
    """A photo hash of its own (far from any other: about 32 bits apart)."""
    return hashlib.sha256(label.encode()).hexdigest()[:16]


def draft(text: str = "TICKET-0001", *, phash: str = PHASH, **changes: object) -> Draft:
    complete = Draft(
        event_type=EventType.CONCERT,
        name="Splean",
        city_id=524901,
        city_name="Moscow",
        city_tz="Europe/Moscow",
        venue="Crocus City Hall",
        event_at=NOW + timedelta(days=30),
        seat=Seat("A", "5", "12"),
        seat_done=True,
        face_value=2000,
        price=2400,
        barcode=SealedBarcode.seal(Barcode("QRCode", text), SECRETS),
        photo_key="0" * 32,
        photo_phash=phash,
    )
    return replace(complete, **changes)  # type: ignore[arg-type]


async def publish(repo: Repo, seller: User, the_draft: Draft, now: datetime = NOW, **settings: object) -> int:
    rules = make_listing_rules(**settings) if settings else RULES
    ticket = await listings.publish(repo, rules, SECRETS, seller, the_draft, now)
    return ticket.id


async def refusal(repo: Repo, seller: User, the_draft: Draft, now: datetime = NOW, **settings: object) -> str:
    with pytest.raises(DomainError) as caught:
        await publish(repo, seller, the_draft, now, **settings)
    return caught.value.code


# --- the draft -------------------------------------------------------------------------------------------------
def test_a_complete_draft_goes_to_the_summary() -> None:
    assert draft().next_step() is None
    assert Draft().next_step() == Step.TYPE


@given(st.sets(st.sampled_from(STEPS)))
def test_next_step_is_the_first_unanswered(unanswered: set[Step]) -> None:
    blank = {
        Step.TYPE: {"event_type": None}, Step.NAME: {"name": None}, Step.CITY: {"city_id": None},
        Step.VENUE: {"venue": None}, Step.WHEN: {"event_at": None}, Step.SEAT: {"seat_done": False},
        Step.FACE: {"face_value": None}, Step.PRICE: {"price": None}, Step.PHOTO: {"barcode": None},
    }  # fmt: skip
    changes: dict[str, object] = {}
    for step in unanswered:
        changes |= blank[step]
    expected = next((step for step in STEPS if step in unanswered), None)
    assert draft(**changes).next_step() == expected


@given(
    name=st.text(min_size=2, max_size=120),
    seat=st.none() | st.builds(Seat, st.none() | st.text(max_size=30), st.none() | st.text(max_size=30),
                               st.none() | st.text(max_size=30), st.booleans()),
    event_at=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    face=st.integers(1, 10_000_000),
    choices=st.integers(0, 3),
)  # fmt: skip
def test_the_draft_survives_json(name: str, seat: Seat | None, event_at: datetime, face: int, choices: int) -> None:
    """The FSM data is JSON in the database or Redis: a draft comes back equal, its barcode still sealed."""
    sealed = tuple(SealedBarcode.seal(Barcode("EAN13", f"460000000000{n}"), SECRETS) for n in range(choices))
    original = draft(name=name, seat=seat, event_at=event_at, face_value=face, choices=sealed)
    data = json.loads(json.dumps(original.to_data()))
    assert Draft.from_data(data) == original
    assert "TICKET-0001" not in json.dumps(data)
    assert Draft.from_data(data).barcode.open(SECRETS).text == "TICKET-0001"  # type: ignore[union-attr]


def test_a_new_city_asks_the_date_again_and_a_new_face_value_the_price() -> None:
    same_zone = draft().with_city(498817, "Saint Petersburg", "Europe/Moscow")
    assert same_zone.event_at is not None and same_zone.next_step() is None
    other_zone = draft().with_city(1486209, "Yekaterinburg", "Asia/Yekaterinburg")
    assert other_zone.event_at is None and other_zone.next_step() == Step.WHEN
    assert draft().with_face_value(3000).next_step() == Step.PRICE


# --- publishing --------------------------------------------------------------------------------------------------
async def test_publish_writes_the_ticket_its_history_and_photo_bands(repo: Repo) -> None:
    anna = await make_user(repo, NOW)
    ticket_id = await publish(repo, anna, draft())
    ticket = await repo.listings.own(ticket_id, anna.id)
    assert ticket is not None and ticket.status == TicketStatus.ACTIVE and ticket.price == 2400
    assert ticket.currency == "RUB" and ticket.seat_section == "A" and ticket.event_name_folded == "splean"
    assert SECRETS.open_text(ticket.barcode_ciphertext) == "TICKET-0001"
    assert ticket.barcode_fingerprint == listings.fingerprint_of(SECRETS, Barcode("QRCode", "TICKET-0001"))
    history = (await repo.session.execute(select(TicketStatusChange.status, TicketStatusChange.actor))).all()
    assert history == [(TicketStatus.ACTIVE, "seller")]
    bands = (await repo.session.execute(select(PhotoHashBand).where(PhotoHashBand.ticket_id == ticket_id))).all()
    assert len(bands) == 8


async def test_one_barcode_one_listing_except_the_sellers_own_relisting(repo: Repo) -> None:
    anna, boris = await make_user(repo, NOW), await make_user(repo, NOW)
    first = await publish(repo, anna, draft())
    other_photo = "0123456789abcdef"
    assert await refusal(repo, boris, draft(phash=other_photo)) == "sell-barcode-taken"
    assert await refusal(repo, anna, draft(phash=other_photo)) == "sell-barcode-yours"
    await listings.withdraw(repo, anna, first, NOW)
    assert await refusal(repo, boris, draft(phash=other_photo)) == "sell-barcode-taken"  # withdrawn: still Anna's
    second = await publish(repo, anna, draft())  # Anna relists her withdrawn ticket
    old, new = await repo.listings.own(first, anna.id), await repo.listings.own(second, anna.id)
    assert old is not None and new is not None
    assert old.barcode_fingerprint is None and new.barcode_fingerprint is not None
    await repo.session.refresh(new)
    new.status = TicketStatus.SOLD
    await repo.session.flush()
    assert await refusal(repo, anna, draft()) == "sell-barcode-closed"


async def test_an_expired_ticket_is_never_listed_again(repo: Repo) -> None:
    """Its event has passed: the barcode is spent, whatever new date its seller gives it."""
    anna = await make_user(repo, NOW)
    first = await publish(repo, anna, draft())
    ticket = await repo.listings.own(first, anna.id)
    assert ticket is not None
    ticket.status = TicketStatus.EXPIRED
    await repo.session.flush()
    assert await refusal(repo, anna, draft(event_at=NOW + timedelta(days=40))) == "sell-barcode-closed"


async def test_near_duplicate_photo_of_another_seller_is_refused(repo: Repo) -> None:
    anna, boris = await make_user(repo, NOW), await make_user(repo, NOW)
    await publish(repo, anna, draft("ANNA-1"))
    near = f"{int(PHASH, 16) ^ 0b1000_0000_0001_0000_0100:016x}"  # 3 bits off
    far = f"{int(PHASH, 16) ^ 0xFF00FF:016x}"
    assert await refusal(repo, boris, draft("BORIS-1", phash=near)) == "sell-photo-duplicate"
    await publish(repo, anna, draft("ANNA-2", phash=near))  # her own photos never count
    await publish(repo, boris, draft("BORIS-1", phash=far))


async def test_the_event_and_the_price_are_checked_again_at_publish(repo: Repo) -> None:
    anna = await make_user(repo, NOW)
    late = draft(event_at=NOW + timedelta(hours=1))
    assert await refusal(repo, anna, late, NOW + timedelta(hours=1)) == "date.past"
    assert await refusal(repo, anna, draft(event_at=NOW + timedelta(days=366))) == "date.too_far"
    assert await refusal(repo, anna, draft(), max_markup_percent=10) == "price.over_cap"
    assert await refusal(repo, anna, draft(price=None)) == "sell-incomplete"
    assert await repo.listings.of_seller(anna.id, list(TicketStatus), None, 10) == []


async def test_a_new_account_lists_a_few_tickets_a_day(repo: Repo) -> None:
    newcomer = await make_user(repo, NOW)
    newcomer.created_at = NOW - timedelta(days=2)
    veteran = await make_user(repo, NOW)  # 30 days old
    await repo.session.flush()
    for n in range(3):
        await publish(repo, newcomer, draft(f"NEW-{n}", phash=photo(f"new {n}")))
    assert await refusal(repo, newcomer, draft("NEW-3", phash=photo("new 3"))) == "sell-daily-limit"
    await publish(repo, newcomer, draft("NEW-3", phash=photo("new 3")), NOW + timedelta(days=1, minutes=1))
    for n in range(5):
        await publish(repo, veteran, draft(f"OLD-{n}", phash=photo(f"old {n}")))


async def test_withdraw_only_ones_own_ticket_on_sale(repo: Repo) -> None:
    anna, boris = await make_user(repo, NOW), await make_user(repo, NOW)
    on_sale = await make_ticket(repo, anna, NOW)
    reserved = await make_ticket(repo, anna, NOW, status=TicketStatus.RESERVED)
    for ticket_id, seller, code in (
        (on_sale.id, boris, "my-not-yours"),
        (reserved.id, anna, "my-withdraw-reserved"),
        (10**9, anna, "my-not-yours"),
    ):
        with pytest.raises(DomainError) as caught:
            await listings.withdraw(repo, seller, ticket_id, NOW)
        assert caught.value.code == code
    assert (await listings.withdraw(repo, anna, on_sale.id, NOW)).status == TicketStatus.WITHDRAWN
    with pytest.raises(DomainError) as caught:
        await listings.withdraw(repo, anna, on_sale.id, NOW)
    assert caught.value.code == "my-not-on-sale"


async def test_seller_pages_are_keyset_pages_per_tab(repo: Repo) -> None:
    anna, boris = await make_user(repo, NOW), await make_user(repo, NOW)
    mine = [await make_ticket(repo, anna, NOW, created_at=NOW + timedelta(minutes=n)) for n in range(7)]
    await make_ticket(repo, boris, NOW)
    await make_ticket(repo, anna, NOW, status=TicketStatus.BLOCKED)
    first = await listings.seller_page(repo, anna, Tab.ON_SALE, None)
    assert [t.id for t in first.tickets] == [t.id for t in reversed(mine)][:5] and first.next_key is not None
    second = await listings.seller_page(repo, anna, Tab.ON_SALE, first.next_key)
    assert [t.id for t in second.tickets] == [mine[1].id, mine[0].id] and second.next_key is None
    withdrawn = await listings.seller_page(repo, anna, Tab.WITHDRAWN, None)
    assert [t.status for t in withdrawn.tickets] == [TicketStatus.BLOCKED]


# --- texts -------------------------------------------------------------------------------------------------------
def test_every_refusal_has_a_text_in_both_languages() -> None:
    codes = {f"{code}" for module in (text, dates, amounts, pricing, seats) for code in module.ERROR_CODES}
    codes |= {"photo-too-large", "photo-not-image", "photo-too-many-pixels", "photo-format"}
    maps = ((STATUS_KEYS, TicketStatus), (TAB_KEYS, Tab), (EMPTY_KEYS, Tab), (STEP_KEYS, STEPS), (ASK_KEYS, STEPS))
    for keys_of, members in maps:  # every member has its text: no KeyError when one is drawn
        assert set(keys_of) == set(members)
        codes |= set(keys_of.values())
    for language in LANGUAGES:
        keys = {message.id for message in read_catalog(LOCALES_DIR / language)}
        assert codes - keys == set(), language


async def test_two_sellers_publishing_one_barcode_at_once(engine: AsyncEngine) -> None:
    """Neither sees the other's uncommitted ticket; on PostgreSQL the second insert waits on the unique index and
    fails when the first commits: exactly one listing, the other seller told it is taken."""
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        anna, boris = await make_user(Repo(session), NOW), await make_user(Repo(session), NOW)
        await session.commit()

    async def attempt(seller: User) -> str:
        async with sessionmaker() as session:
            try:
                await publish(Repo(session), seller, draft("THE-SAME-CODE"))
            except DomainError as error:
                return error.code
            await asyncio.sleep(0.2)  # the other seller's insert arrives while this one is still open
            await session.commit()
            return "listed"

    assert sorted(await asyncio.gather(attempt(anna), attempt(boris))) == ["listed", "sell-barcode-taken"]
    async with sessionmaker() as session:
        assert (
            len(await Repo(session).listings.of_seller(anna.id, list(TicketStatus), None, 5))
            + len(await Repo(session).listings.of_seller(boris.id, list(TicketStatus), None, 5))
            == 1
        )
