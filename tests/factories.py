"""Users and tickets for tests, without the sell wizard: inserted through the repositories."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from bot.settings import Settings
from db.models import EventType, Ticket, TicketStatus, User
from db.repo import Repo
from services.feed import fold

_ids = itertools.count(1)
TOKEN = "123456789:" + "A" * 35

MOSCOW = (524901, "Moscow", "Europe/Moscow")
SAINT_PETERSBURG = (498817, "Saint Petersburg", "Europe/Moscow")
YEKATERINBURG = (1486209, "Yekaterinburg", "Asia/Yekaterinburg")


def make_settings(**overrides: object) -> Settings:
    """Settings as the tests need them, independent of any .env: Stars unless a provider token is given."""
    values: dict[str, object] = {"bot_token": TOKEN, "payment_provider_token": None, "currency": "RUB"}
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


async def make_user(
    repo: Repo, now: datetime, *, first_name: str = "Anna", telegram_id: int | None = None, language: str = "en"
) -> User:
    n = next(_ids)
    telegram_id = telegram_id or 10_000 + n
    user = User(
        telegram_id=telegram_id,
        phone_e164=f"+7916{telegram_id % 10_000_000:07d}",
        full_name=f"{first_name} Test{n}",
        first_name=first_name,
        username=None,
        language=language,
        created_at=now - timedelta(days=30),
    )
    return await repo.users.add(user)


async def make_users(repo: Repo, now: datetime, count: int) -> list[User]:
    return [await make_user(repo, now) for _ in range(count)]


async def make_ticket(
    repo: Repo,
    seller: User,
    now: datetime,
    *,
    event_name: str = "Сплин",
    event_type: EventType = EventType.CONCERT,
    city: tuple[int, str, str] = MOSCOW,
    event_at: datetime | None = None,
    price: int = 2000,
    face_value: int | None = None,
    currency: str = "RUB",
    created_at: datetime | None = None,
    status: TicketStatus = TicketStatus.ACTIVE,
) -> Ticket:
    n = next(_ids)
    city_id, city_name, city_tz = city
    ticket = Ticket(
        seller_id=seller.id,
        event_name=event_name,
        event_name_folded=fold(event_name),
        event_type=event_type,
        city_id=city_id,
        city_name=city_name,
        city_tz=city_tz,
        venue="Crocus City Hall",
        event_at=event_at or now + timedelta(days=30),
        seat_section="Партер",
        seat_row="5",
        seat_number=str(n % 40 + 1),
        face_value=face_value or price,
        price=price,
        currency=currency,
        barcode_ciphertext=b"",
        barcode_format="QRCode",
        barcode_fingerprint=f"{n:064x}",
        photo_key=f"photo-{n}",
        photo_phash=f"{n:016x}",
        status=status,
        created_at=created_at or now,
        updated_at=created_at or now,
    )
    repo.session.add(ticket)
    await repo.session.flush()
    return ticket
