"""Wallet passes (.pkpass, a zip with pass.json): the barcode message and format exactly as the pass states them,
and the event name, venue and date it carries, to prefill the wizard.

The archive is checked before anything is inflated (entry count, declared sizes, compression ratio) and pass.json is
read with a hard cap, whatever the headers claim. The pass's signature is not checked: it proves who issued the
pass, never that the ticket is still valid, so nothing here reports it."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.barcode_values import Barcode
from services.errors import DomainError

MAX_ENTRIES = 64  # a pass holds pass.json, a manifest, a signature, images and localisations
MAX_INFLATED = 10 * 1024 * 1024  # all entries together, as declared
MAX_RATIO = 100  # inflated / compressed, per entry: JSON and PNG compress far less than a bomb
MAX_PASS_JSON = 512 * 1024
# PassKit's formats, and zxing-cpp's names for them (the fingerprint is of format + text, whatever the source).
FORMATS = {"PKBarcodeFormatQR": "QRCode", "PKBarcodeFormatPDF417": "PDF417", "PKBarcodeFormatAztec": "Aztec",
           "PKBarcodeFormatCode128": "Code128"}  # fmt: skip
STYLES = ("eventTicket", "boardingPass", "generic", "storeCard", "coupon")


@dataclass(frozen=True)
class Prefill:
    """What a pass says about its event; any may be missing."""

    event_name: str | None = None
    venue: str | None = None
    starts_at: datetime | None = None  # aware, as the pass states it


@dataclass(frozen=True)
class WalletPass:
    barcodes: tuple[Barcode, ...]
    prefill: Prefill


def _pass_json(data: bytes) -> Any:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DomainError("pass-broken") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES or sum(entry.file_size for entry in entries) > MAX_INFLATED:
            raise DomainError("pass-too-large")
        if any(entry.file_size > MAX_RATIO * max(entry.compress_size, 1) for entry in entries):
            raise DomainError("pass-too-large")
        try:
            with archive.open("pass.json") as member:
                raw = member.read(MAX_PASS_JSON + 1)
        except KeyError:
            raise DomainError("pass-no-json") from None
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
            raise DomainError("pass-broken") from None
    if len(raw) > MAX_PASS_JSON:
        raise DomainError("pass-too-large")
    try:
        content = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise DomainError("pass-bad-json") from None
    if not isinstance(content, dict):
        raise DomainError("pass-bad-json")
    return content


def _barcodes(content: dict[str, Any]) -> tuple[Barcode, ...]:
    """`barcodes` (iOS 9 and later) or the older single `barcode`: the message exactly, in a format we can render."""
    listed = content.get("barcodes")
    entries = listed if isinstance(listed, list) else [content.get("barcode")]
    found = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        format, message = FORMATS.get(str(entry.get("format"))), entry.get("message")
        if format and isinstance(message, str):
            found.append(Barcode(format, message))
    return tuple(dict.fromkeys(found))


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _date(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _fields(content: dict[str, Any]) -> list[dict[str, Any]]:
    style: dict[str, Any] = next((content[name] for name in STYLES if isinstance(content.get(name), dict)), {})
    groups = ("primaryFields", "secondaryFields", "auxiliaryFields", "headerFields")
    return [field for group in groups for field in style.get(group) or [] if isinstance(field, dict)]


def _field(fields: list[dict[str, Any]], *words: str) -> Any:
    """The value of the first field whose key or label names one of `words` ("venue", "date", ...)."""
    for field in fields:
        name = f"{field.get('key', '')} {field.get('label', '')}".lower()
        if any(word in name for word in words):
            return field.get("value")
    return None


def _prefill(content: dict[str, Any]) -> Prefill:
    """Semantic tags first (iOS 15: eventName, venueName, eventStartDate), then the pass's fields, then its
    description and relevantDate."""
    semantics: dict[str, Any] = content["semantics"] if isinstance(content.get("semantics"), dict) else {}
    fields = _fields(content)
    primary = fields[0].get("value") if fields else None
    relevant = content.get("relevantDates")
    first_relevant = relevant[0].get("startDate") if isinstance(relevant, list) and relevant and isinstance(
        relevant[0], dict) else None  # fmt: skip
    return Prefill(
        event_name=_text(semantics.get("eventName")) or _text(_field(fields, "event")) or _text(primary)
        or _text(content.get("description")),
        venue=_text(semantics.get("venueName")) or _text(_field(fields, "venue", "location", "place")),
        starts_at=_date(semantics.get("eventStartDate")) or _date(_field(fields, "date", "time"))
        or _date(content.get("relevantDate")) or _date(first_relevant),
    )  # fmt: skip


def read_pass(data: bytes) -> WalletPass:
    """The pass's barcodes and prefill. Raises DomainError (pass-broken, pass-too-large, pass-no-json, pass-bad-json,
    pass-no-barcode)."""
    content = _pass_json(data)
    barcodes = _barcodes(content)
    if not barcodes:
        raise DomainError("pass-no-barcode")
    return WalletPass(barcodes, _prefill(content))
