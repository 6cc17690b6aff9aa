"""Originality: keyed barcode fingerprints, pHash distance, and the near-duplicate photo search on SQLite and
PostgreSQL."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from db.models import User
from db.repo import Repo
from services.barcodes import scan_photo
from services.originality import (
    MAX_DISTANCE,
    find_near_duplicate,
    fingerprint_of,
    near_photos,
    normalise,
    phash_distance,
)
from tests.factories import BARCODE_CORPUS, make_ticket, make_user, require_corpus

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
LIMIT = 10 * 1024 * 1024


def test_fingerprint_is_stable_and_keyed() -> None:
    print_ = fingerprint_of(KEY, "QRCode", "TICKET-1")
    assert print_ == fingerprint_of(KEY, "QRCode", "TICKET-1")
    assert len(print_) == 64 and int(print_, 16) >= 0
    assert fingerprint_of(b"another key", "QRCode", "TICKET-1") != print_
    assert fingerprint_of(KEY, "QRCode", "TICKET-2") != print_
    assert "TICKET" not in print_


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("QRCode", "TICKET-1"), ("QRCode", "  TICKET-1\n")),  # surrounding whitespace
        (("QRCode", "TICKET-1"), ("MicroQRCode", "TICKET-1")),  # one symbology family
        (("EAN13", "0012345678905"), ("UPCA", "012345678905")),  # UPC-A is EAN-13 with a leading 0
        (("EAN13", "0012345000065"), ("UPCE", "0012345000065")),  # zxing reads UPC-E as its 13-digit expansion
        (("PDF417", "A"), ("CompactPDF417", "A")),
    ],
)
def test_fingerprint_normalises_one_ticket_to_one_print(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert fingerprint_of(KEY, *a) == fingerprint_of(KEY, *b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("QRCode", "TICKET-1"), ("Aztec", "TICKET-1")),  # the symbology is part of the ticket
        (("EAN13", "0012345678905"), ("EAN13", "12345678905")),  # leading zeros of a number count
        (("QRCode", "ticket-1"), ("QRCode", "TICKET-1")),
        (("QRCode", "TICKET 1"), ("QRCode", "TICKET  1")),  # inner whitespace is content
    ],
)
def test_fingerprint_keeps_different_tickets_apart(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert fingerprint_of(KEY, *a) != fingerprint_of(KEY, *b)


def test_normalise_rejects_unknown_formats() -> None:
    assert normalise("Code39Ext", " AB ") == ("Code39", "AB")
    with pytest.raises(ValueError):
        normalise("NoSuchCode", "1")


def test_phash_distance() -> None:
    assert phash_distance("0000000000000000", "0000000000000000") == 0
    assert phash_distance("0000000000000000", "ffffffffffffffff") == 64
    assert phash_distance("8000000000000001", "0000000000000000") == 2
    assert phash_distance("0123456789abcdef", "0123456789abcdee") == 1


def _reencoded(data: bytes) -> bytes:
    """The same photo as a reseller would repost it: slightly resized, JPEG at quality 60."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((int(image.width * 0.9), int(image.height * 0.9)))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=60)
    return output.getvalue()


def _phash(path: Path) -> str:
    return scan_photo(path.read_bytes(), max_bytes=LIMIT).phash


async def _listed(repo: Repo, seller: User, phash: str) -> int:
    ticket = await make_ticket(repo, seller, NOW)
    ticket.photo_phash = phash
    await repo.originality.add_photo_hash(ticket.id, phash)
    await repo.session.flush()
    return ticket.id


async def test_near_duplicate_photo_of_another_seller(repo: Repo) -> None:
    original = require_corpus() / "qr" / "qrcode-3_03.webp"
    first, second = await make_user(repo, NOW), await make_user(repo, NOW)
    ticket_id = await _listed(repo, first, _phash(original))
    await _listed(repo, first, _phash(BARCODE_CORPUS / "pdf417" / "pdf417-2_03.webp"))
    repost = scan_photo(_reencoded(original.read_bytes()), max_bytes=LIMIT).phash
    assert 0 < phash_distance(repost, _phash(original)) <= 6
    assert await find_near_duplicate(repo, repost, second.id, 6) == ticket_id
    assert await find_near_duplicate(repo, repost, first.id, 6) is None  # the seller's own photo
    different = _phash(BARCODE_CORPUS / "aztec" / "aztec-2_03.webp")
    assert await find_near_duplicate(repo, different, second.id, 6) is None


async def test_band_search_finds_exactly_what_a_full_scan_finds(repo: Repo) -> None:
    rng = random.Random(7)
    query = rng.getrandbits(64)
    others, seller = await make_user(repo, NOW), await make_user(repo, NOW)
    stored: dict[int, str] = {}
    for n in range(160):
        value = rng.getrandbits(64)
        if n % 2:  # half of them near the query: flip 1..9 random bits
            value = query
            for bit in rng.sample(range(64), n % 10):
                value ^= 1 << bit
        phash = f"{value:016x}"
        stored[await _listed(repo, others, phash)] = phash
    await _listed(repo, seller, f"{query:016x}")  # the seller's own: never reported
    for max_distance in range(MAX_DISTANCE + 1):
        expected = {i for i, phash in stored.items() if phash_distance(phash, f"{query:016x}") <= max_distance}
        found = await near_photos(repo, f"{query:016x}", max_distance, exclude_seller_id=seller.id)
        assert set(found) == expected, max_distance
        distances = [phash_distance(stored[i], f"{query:016x}") for i in found]
        assert distances == sorted(distances)
    with pytest.raises(ValueError):
        await near_photos(repo, f"{query:016x}", MAX_DISTANCE + 1, exclude_seller_id=seller.id)
