"""Events: one key for listings of the same folded name, city and local minute; "N more" for cards in one query;
the event page by price with keyset paging; the key migrated onto tickets listed before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import text

from db.engine import create_engine
from db.migrate import alembic_config
from db.models import TicketStatus
from db.repo import Repo
from services import events
from services.events import event_key
from tests.factories import SAINT_PETERSBURG, YEKATERINBURG, make_ticket, make_users

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
AT = datetime(2026, 12, 20, 16, 0, tzinfo=UTC)  # 19:00 in Moscow


def test_one_event_whatever_the_spelling() -> None:
    key = event_key("Сплин", 524901, "Europe/Moscow", AT)
    assert event_key("  СПЛИН ", 524901, "Europe/Moscow", AT) == key
    assert event_key("Сплин", 524901, "Europe/Moscow", AT + timedelta(seconds=30)) == key  # the same minute
    assert event_key("Сплин", 524901, "Europe/Moscow", AT + timedelta(hours=1)) != key
    assert event_key("Сплин", 498817, "Europe/Moscow", AT) != key
    assert event_key("Ёлка", 1, "Europe/Moscow", AT) == event_key("елка", 1, "Europe/Moscow", AT)


async def test_more_tickets_and_the_event_page(repo: Repo) -> None:
    first, second = await make_users(repo, NOW, 2)
    same = [
        await make_ticket(repo, seller, NOW, event_at=AT, price=price)
        for seller, price in [(first, 2500), (second, 1800), (second, 2000), (first, 1800)]
    ]
    sold = await make_ticket(repo, first, NOW, event_at=AT, price=100, status=TicketStatus.SOLD)
    lonely = await make_ticket(repo, first, NOW, event_at=AT, city=SAINT_PETERSBURG)
    for ticket in [*same, sold, lonely]:
        ticket.event_key = events.key_of(ticket)
    await repo.session.flush()
    more = await events.more_for_cards(repo, [same[0], same[1], lonely], NOW)
    assert (more[same[0].id].count, more[same[0].id].min_price) == (3, 1800)
    assert (more[same[1].id].count, more[same[1].id].min_price) == (3, 1800)
    assert lonely.id not in more

    key = events.key_of(same[0])
    page = await events.event_page(repo, key, NOW, size=3)
    assert [t.price for t in page.tickets] == [1800, 1800, 2000]
    assert page.next_key is not None
    rest = await events.event_page(repo, key, NOW, page.next_key, size=3)
    assert [t.id for t in rest.tickets] == [same[0].id] and rest.next_key is None
    assert (await events.event_page(repo, key, AT)).tickets == []  # the event has started


async def test_migration_keys_tickets_listed_before(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0004"))
        await connection.execute(
            text(
                "INSERT INTO users (id, telegram_id, phone_e164, full_name, first_name, language, is_banned,"
                " blocked_bot, created_at) VALUES (1, 1, '+79160000001', 'A B', 'A', 'en', 0, 0, '2026-11-01')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO tickets (id, seller_id, event_name, event_name_folded, event_type, city_id, city_name,"
                " city_tz, venue, event_at, standing, face_value, price, currency, barcode_ciphertext,"
                " barcode_format, photo_key, photo_phash, status, created_at, updated_at) VALUES (1, 1, 'Сплин',"
                " 'сплин', 'concert', :city, 'Yekaterinburg', :tz, 'Hall', '2026-12-20 16:00:00.000000', 0, 1, 1,"
                " 'RUB', x'', 'QRCode', 'k', '0000000000000000', 'active', '2026-11-01', '2026-11-01')"
            ),
            {"city": YEKATERINBURG[0], "tz": YEKATERINBURG[2]},
        )
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
        key = (await connection.execute(text("SELECT event_key FROM tickets"))).scalar_one()
    await engine.dispose()
    assert key == event_key("Сплин", YEKATERINBURG[0], YEKATERINBURG[2], AT)
