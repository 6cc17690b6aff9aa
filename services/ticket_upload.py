"""The sell step's one entry point: whatever the seller sent (a photo, a PDF e-ticket, a Wallet pass), told apart by
its content, and every usable barcode in it with where it came from."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from services import wallet_pass
from services.barcode_values import MAX_DECODED_BYTES, Barcode, in_scanner, usable_or_refuse
from services.errors import DomainError
from services.wallet_pass import Prefill

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"BM", b"II*\0", b"MM\0*")
PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WITHIN = 1024  # PDF readers accept the header anywhere in the first kilobyte
ZIP_MAGIC = b"PK\x03\x04"


class DocumentKind(enum.StrEnum):
    """How the document is stored and delivered: a photo as a picture, a PDF or a pass as the file itself."""

    PHOTO = "photo"
    PDF = "pdf"
    PASS = "pass"


@dataclass(frozen=True)
class ScanLimits:
    """Built from settings at start-up."""

    max_bytes: int
    max_pdf_pages: int = 10
    max_decoded_bytes: int = MAX_DECODED_BYTES


@dataclass(frozen=True)
class Found:
    barcode: Barcode
    page: int | None = None  # the PDF's page, from 1; None for a photo or a pass


@dataclass(frozen=True)
class ScanResult:
    kind: DocumentKind
    found: tuple[Found, ...]  # at least one; several: the seller picks
    document: bytes  # what to store encrypted and deliver: the normalised JPEG, or the PDF or pass as sent
    phash: str | None  # a photo's perceptual hash; None for PDFs and passes (one template, many tickets)
    prefill: Prefill | None = None  # what a pass says about its event


def kind_of(data: bytes) -> DocumentKind:
    """By the magic bytes, never the file's name or declared type. Unknown content is refused as not an image."""
    if data.startswith(ZIP_MAGIC):
        return DocumentKind.PASS
    if PDF_MAGIC in data[:PDF_MAGIC_WITHIN]:
        return DocumentKind.PDF
    if data.startswith(IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return DocumentKind.PHOTO  # GIF, BMP and TIFF are refused with their own message by the photo checks
    raise DomainError("photo-not-image")


def _photo(data: bytes, limits: ScanLimits) -> ScanResult:
    from services.barcodes import decode, jpeg_of, normalised_photo, phash_of  # the image libraries: on first use

    image = normalised_photo(data, max_bytes=limits.max_bytes, max_decoded_bytes=limits.max_decoded_bytes)
    gray = image.convert("L")
    barcodes = usable_or_refuse(decode(gray))
    if not barcodes:
        raise DomainError("no-barcode")
    return ScanResult(DocumentKind.PHOTO, tuple(Found(b) for b in barcodes), jpeg_of(image), phash_of(gray))


def _pdf(data: bytes, limits: ScanLimits) -> ScanResult:
    from services import tickets_pdf  # pdfium and the image libraries: on first use

    by_page = tickets_pdf.barcodes_by_page(
        data, max_pages=limits.max_pdf_pages, max_decoded_bytes=limits.max_decoded_bytes
    )
    kept = set(usable_or_refuse(tuple(barcode for _, barcode in by_page)))
    if not kept:
        raise DomainError("pdf-no-barcode")
    return ScanResult(DocumentKind.PDF, tuple(Found(b, page) for page, b in by_page if b in kept), data, None)


def _pass(data: bytes) -> ScanResult:
    read = wallet_pass.read_pass(data)
    barcodes = usable_or_refuse(read.barcodes)
    return ScanResult(DocumentKind.PASS, tuple(Found(b) for b in barcodes), data, None, read.prefill)


def scan_upload(data: bytes, *, limits: ScanLimits) -> ScanResult:
    """Every usable barcode of a photo, PDF e-ticket or Wallet pass. Raises DomainError: photo-too-large (any kind,
    with max_mb), photo-not-image, photo-format, photo-too-many-pixels, no-barcode, barcode-unusable, pdf-*,
    pass-* (see tickets_pdf and wallet_pass). CPU-bound: see scan_upload_async."""
    if len(data) > limits.max_bytes:
        raise DomainError("photo-too-large", max_mb=limits.max_bytes // (1024 * 1024))
    kind = kind_of(data)
    if kind is DocumentKind.PDF:
        return _pdf(data, limits)
    if kind is DocumentKind.PASS:
        return _pass(data)
    return _photo(data, limits)


async def scan_upload_async(data: bytes, *, limits: ScanLimits) -> ScanResult:
    """scan_upload on the scanner threads: at most a few documents decoded at once."""
    return await in_scanner(lambda: scan_upload(data, limits=limits))
