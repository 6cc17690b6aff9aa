"""A barcode as a value (its format and text), what makes one usable as a ticket, and the limits of a scan: what
the rest of the bot needs of barcodes without the image libraries.

Reading and drawing barcodes (services/barcodes.py, services/tickets_pdf.py: numpy, Pillow, pypdfium2, pyzbar,
~17 MiB of resident memory) is imported by the few places that do it, on the first upload or the first barcode
drawn; everything imported at start-up takes its barcodes from here. Nothing here logs or puts barcode text into
an exception message: the text is the secret ticket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import zxingcpp

from services.errors import DomainError

MAX_PIXELS = 40_000_000  # checked from the header, before any pixel is decoded
# What one image may take once decoded, checked from the header too: a 12 MP phone photo in RGB takes 48 MB
# (Pillow keeps RGB in 4 bytes a pixel), a 6300x6300 RGB PNG of 150 KB would take 159 MB.
MAX_DECODED_BYTES = 64 * 1024 * 1024
SCANS_AT_ONCE = 2  # images decoded at the same time by the async callers; the rest wait their turn
MAX_TEXT = 2048  # characters: longer than any ticket code in use (JWT-signed QR tickets are under 1,000)


@dataclass(frozen=True)
class Barcode:
    """One decoded barcode. `format` is zxing-cpp's format name ("QRCode", "EAN13", "PDF417", ...)."""

    format: str
    text: str

    @property
    def tail(self) -> str:
        """The last 4 characters, to tell barcodes apart on a button."""
        return self.text[-4:]

    @property
    def label(self) -> str:
        """The symbology's human name: "QR Code", "EAN-13", "Data Matrix", "Code 128", ..."""
        return str(zxingcpp.barcode_format_from_str(self.format))


def decoded_bytes(mode: str, size: tuple[int, int]) -> int:
    """What Pillow allocates for an image of this mode and size: a byte a pixel for 1, L and P, else at most four."""
    return size[0] * size[1] * (1 if mode in ("1", "L", "P") else 4)


def check_budget(mode: str, size: tuple[int, int], max_decoded_bytes: int) -> None:
    if size[0] * size[1] > MAX_PIXELS or decoded_bytes(mode, size) > max_decoded_bytes:
        raise DomainError("photo-too-many-pixels")


def usable(barcodes: tuple[Barcode, ...]) -> tuple[Barcode, ...]:
    """The barcodes that can be a ticket: some visible character, and no longer than any ticket code. Binary codes
    decoded to nothing, to NULs or to a book are dropped: a buyer could not use them."""
    return tuple(
        barcode
        for barcode in barcodes
        if len(barcode.text) <= MAX_TEXT and any(char.isprintable() and not char.isspace() for char in barcode.text)
    )


def usable_or_refuse(barcodes: tuple[Barcode, ...]) -> tuple[Barcode, ...]:
    """`usable(barcodes)`; refused ("barcode-unusable") when every barcode found is unusable."""
    kept = usable(barcodes)
    if barcodes and not kept:
        raise DomainError("barcode-unusable")
    return kept


_T = TypeVar("_T")
_scanner = ThreadPoolExecutor(max_workers=SCANS_AT_ONCE, thread_name_prefix="scan")


async def in_scanner(call: Callable[[], _T]) -> _T:
    """Run a CPU-bound scan on one of SCANS_AT_ONCE threads (zxing-cpp, Pillow and pdfium release the GIL): the
    event loop never blocks, and a burst of uploads waits in line instead of holding every image in memory."""
    return await asyncio.get_running_loop().run_in_executor(_scanner, call)
