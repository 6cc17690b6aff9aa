"""Users and tickets for tests, without the sell wizard: inserted through the repositories."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.rules import listing_rules, payment_rules
from bot.settings import Settings
from db.models import EventType, Ticket, TicketStatus, User
from db.repo import Repo
from services import events
from services.crypto import Secrets
from services.feed import fold
from services.rules import ListingRules, PaymentRules
from services.storage import PhotoStorage

_ids = itertools.count(1)
TOKEN = "123456789:" + "A" * 35

MOSCOW = (524901, "Moscow", "Europe/Moscow")
SAINT_PETERSBURG = (498817, "Saint Petersburg", "Europe/Moscow")
YEKATERINBURG = (1486209, "Yekaterinburg", "Asia/Yekaterinburg")


def make_settings(**overrides: object) -> Settings:
    """Settings as the tests need them, independent of any .env: Stars unless a provider token is given."""
    values: dict[str, object] = {"bot_token": TOKEN, "payment_provider_token": None, "currency": "RUB"}
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def make_listing_rules(**overrides: object) -> ListingRules:
    """The listing rules the bot would build from `make_settings(**overrides)`."""
    return listing_rules(make_settings(**overrides))


def make_payment_rules(**overrides: object) -> PaymentRules:
    """The payment rules the bot would build from `make_settings(**overrides)`: Stars unless a provider token."""
    return payment_rules(make_settings(**overrides))


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
    ticket.event_key = events.key_of(ticket)
    repo.session.add(ticket)
    await repo.session.flush()
    return ticket


# --- tickets with real barcodes ------------------------------------------------------------------------------
# The real barcode photos live in the repository (tests/data/barcodes, see its README): nothing outside it is read.
BARCODE_CORPUS = Path(__file__).resolve().parent / "data" / "barcodes"


def require_corpus() -> Path:
    """The real barcode photos: one clear failure of the test that needs them where the folder is missing."""
    if not BARCODE_CORPUS.is_dir():
        pytest.fail(f"the barcode corpus is missing from the repository: {BARCODE_CORPUS}")
    return BARCODE_CORPUS


ZXING_FORMATS = {"qr": "QRCode", "aztec": "Aztec", "pdf417": "PDF417", "datamatrix": "DataMatrix"}


@dataclass(frozen=True)
class BarcodeSample:
    """A real barcode photo from the corpus and the text it encodes (zxing-cpp's format name)."""

    path: Path
    text: str
    format: str

    def jpeg(self) -> bytes:
        """The photo as the sell wizard stores it: RGB JPEG."""
        output = io.BytesIO()
        with Image.open(self.path) as image:
            image.convert("RGB").save(output, "JPEG", quality=85)
        return output.getvalue()


def barcode_samples(symbology: str = "qr") -> list[BarcodeSample]:
    folder = require_corpus() / symbology
    return [
        BarcodeSample(image, image.with_suffix(".txt").read_text(encoding="utf-8"), ZXING_FORMATS[symbology])
        for image in sorted(folder.iterdir())
        if image.suffix in {".png", ".jpg", ".webp"} and image.with_suffix(".txt").exists()
    ]


async def make_listed_ticket(
    repo: Repo,
    seller: User,
    now: datetime,
    secrets: Secrets,
    photo_storage: PhotoStorage,
    sample: BarcodeSample,
    **fields: object,
) -> Ticket:
    """A ticket as the sell wizard lists it: the barcode text sealed, the photo in the (encrypted) storage."""
    ticket = await make_ticket(repo, seller, now, **fields)  # type: ignore[arg-type]
    ticket.barcode_ciphertext = secrets.seal_text(sample.text)
    ticket.barcode_format = sample.format
    ticket.photo_key = await photo_storage.put(sample.jpeg())
    await repo.session.flush()
    return ticket
