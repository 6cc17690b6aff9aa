"""Originality of a listing: the barcode's keyed fingerprint and the photo's near-duplicates among other sellers'.

Nothing here logs or raises with barcode text in it.
"""

from __future__ import annotations

import hashlib
import hmac

import zxingcpp

from db.repo import Repo
from db.repositories.originality import MAX_DISTANCE

__all__ = ["MAX_DISTANCE", "find_near_duplicate", "fingerprint_of", "near_photos", "normalise", "phash_distance"]

SEPARATOR = "\x1f"
_EANUPC = zxingcpp.BarcodeFormat.EANUPC


def normalise(format: str, text: str) -> tuple[str, str]:
    """The (symbology, text) a fingerprint is taken of, so that one ticket read or encoded trivially differently
    gives one fingerprint:

    - the format becomes its symbology family, as zxing-cpp defines it: QRCode, QRCodeModel1/2, MicroQRCode and
      RMQRCode -> QRCode; EAN13, EAN8, UPCA, UPCE and ISBN -> EANUPC; Code39Ext/Std, Code32 and PZN -> Code39;
      ITF14 -> ITF; CompactPDF417 and MicroPDF417 -> PDF417; the DataBar variants -> DataBar; AztecRune -> Aztec;
    - the text loses surrounding whitespace; digits of linear symbologies are kept as they are (leading zeros
      matter: they are part of the number);
    - in the EAN/UPC family a 12-digit UPC-A number gets the leading 0 of its EAN-13 form. zxing-cpp 3 itself
      already reads a UPC-A symbol as EAN13 "0" + 12 digits and a UPC-E symbol as the same 13-digit expansion (checked
      on rendered symbols), so the same number printed as EAN-13, UPC-A or UPC-E is one ticket; EAN-8 numbers have
      8 digits and never meet the 13-digit ones.

    Raises ValueError for a format name zxing-cpp does not know."""
    family = zxingcpp.barcode_format_from_str(format).symbology
    text = text.strip()
    if family == _EANUPC and len(text) == 12 and text.isdigit():
        text = "0" + text
    return family.name, text


def fingerprint_of(key: bytes, format: str, text: str) -> str:
    """HMAC-SHA256 under `key` of the normalised symbology and text (see `normalise`), 64 hex characters: equal
    for one ticket however it was photographed, useless without the key."""
    family, text = normalise(format, text)
    return hmac.new(key, f"{family}{SEPARATOR}{text}".encode(), hashlib.sha256).hexdigest()


def phash_distance(a: str, b: str) -> int:
    """Hamming distance of two 16-hex-character hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


async def near_photos(repo: Repo, phash: str, max_distance: int, exclude_seller_id: int) -> list[int]:
    """Ids of other sellers' tickets (any status) whose photo hash is within `max_distance` bits (at most
    MAX_DISTANCE) of `phash`, nearest first."""
    candidates = await repo.originality.candidates(phash, max_distance, exclude_seller_id)
    near = sorted((phash_distance(phash, other), ticket_id) for ticket_id, other in candidates)
    return [ticket_id for distance, ticket_id in near if distance <= max_distance]


async def find_near_duplicate(repo: Repo, phash: str, seller_id: int, max_distance: int) -> int | None:
    """The id of another seller's ticket (any status: a sold ticket's photo counts too) whose photo hash is within
    `max_distance` bits (at most MAX_DISTANCE, 7) of `phash`, the nearest one; None when the photo is original. The
    seller's own photos never count: relisting one's own ticket is allowed."""
    near = await near_photos(repo, phash, max_distance, exclude_seller_id=seller_id)
    return near[0] if near else None
