"""Barcode photos: validate, normalise, decode (zxing-cpp), hash (pHash), and re-render a clean barcode image.

Nothing here logs or puts barcode text into an exception message: the text is the secret ticket.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import imagehash
import numpy as np
import zxingcpp
from PIL import Image, ImageFilter, ImageOps

JPEG_FORMATS = frozenset({"JPEG", "MPO"})  # MPO: the multi-picture JPEG some phone cameras write
ACCEPTED_FORMATS = JPEG_FORMATS | {"PNG", "WEBP"}
MAX_PIXELS = 40_000_000  # checked from the header, before any pixel is decoded
MAX_SIDE = 2048  # the long side of the stored photo
JPEG_QUALITY = 85
PHASH_BASE = 128  # box-shrunk to this square before pHash's own Lanczos to 32x32: same hash, 50x faster
SMALL_SIDE = 1024  # photos up to this long side get a second look, upscaled, when nothing was found
RENDER_SIDE = 600  # the rendered barcode's long side is at least this many pixels
RENDER_QUIET_MODULES = 4  # extra white margin around the rendered symbol, in modules

# Pillow raises these for files that are not images, truncated or corrupt.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)
_BINARIZERS = (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram)


class PhotoError(Exception):
    """A photo refused before decoding; `code` is one of photo-too-large, photo-not-image, photo-too-many-pixels,
    photo-format."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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


@dataclass(frozen=True)
class ScannedPhoto:
    barcodes: tuple[Barcode, ...]
    phash: str  # 16 hex characters
    jpeg: bytes  # upright, RGB, at most MAX_SIDE on the long side, no EXIF: what is stored and shown to the buyer
    width: int
    height: int


def _open(data: bytes, max_bytes: int) -> Image.Image:
    """The image behind `data`, header checked (size, format, pixel count) before any pixel is decoded."""
    if len(data) > max_bytes:
        raise PhotoError("photo-too-large")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise PhotoError("photo-too-many-pixels") from None
    except _DECODE_ERRORS:
        raise PhotoError("photo-not-image") from None
    if image.format not in ACCEPTED_FORMATS:
        raise PhotoError("photo-format")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PhotoError("photo-too-many-pixels")
    if image.format in JPEG_FORMATS:  # let libjpeg scale down while decoding: less memory and time for huge photos
        ratio = min(1.0, MAX_SIDE / max(width, height))
        image.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
    try:
        image.load()
    except Image.DecompressionBombError:
        raise PhotoError("photo-too-many-pixels") from None
    except _DECODE_ERRORS:
        raise PhotoError("photo-not-image") from None
    return image


def _normalise(image: Image.Image) -> Image.Image:
    """At most MAX_SIDE on the long side, upright (EXIF orientation applied after shrinking: cheaper), RGB on white
    where transparent. Bilinear is antialiased when shrinking in Pillow, and half the time of Lanczos."""
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
        return image
    return image.convert("RGB")


def _views(gray: Image.Image) -> Iterator[Image.Image]:
    """The image as decoded, then, for a small photo, twice the size (modules too thin for the detector) and the
    same sharpened (blurry phone shots)."""
    yield gray
    if max(gray.size) <= SMALL_SIDE:
        upscaled = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.BICUBIC)
        yield upscaled
        yield upscaled.filter(ImageFilter.UnsharpMask(radius=3, percent=200, threshold=0))


def decode(gray: Image.Image) -> tuple[Barcode, ...]:
    """Every valid barcode in a grayscale image, each once: the first view and binarizer that find any win.
    LocalAverage (zxing's default) reads most photos; GlobalHistogram rescues some low-contrast ones."""
    for view in _views(gray):
        for binarizer in _BINARIZERS:
            found = zxingcpp.read_barcodes(view, binarizer=binarizer, text_mode=zxingcpp.TextMode.Plain)
            barcodes = [Barcode(result.format.name, result.text) for result in found if result.valid]
            if barcodes:
                return tuple(dict.fromkeys(barcodes))
    return ()


def scan_photo(data: bytes, *, max_bytes: int) -> ScannedPhoto:
    """Validate, normalise and decode a photo of a ticket. Raises PhotoError. CPU-bound: see scan_photo_async."""
    image = _normalise(_open(data, max_bytes))
    gray = image.convert("L")
    output = io.BytesIO()
    image.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return ScannedPhoto(
        barcodes=decode(gray),
        phash=str(imagehash.phash(gray.resize((PHASH_BASE, PHASH_BASE), Image.Resampling.BOX))),
        jpeg=output.getvalue(),
        width=image.width,
        height=image.height,
    )


async def scan_photo_async(data: bytes, *, max_bytes: int) -> ScannedPhoto:
    """scan_photo in a worker thread (zxing-cpp and Pillow release the GIL), so the event loop never blocks."""
    return await asyncio.to_thread(scan_photo, data, max_bytes=max_bytes)


def _content(format: str, text: str) -> Any:
    """What to encode: the ISO-8859-1 bytes when the text fits them (the 2D symbologies' default character set, and
    the exact bytes of binary content, which zxing reports one character per byte); UTF-8 with an ECI otherwise.
    Code 32 reads as "A" + 8 digits + a check digit, and is written from the 8 digits."""
    if format == "Code32":
        text = text[1:-1]
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text


def render_barcode_png(format: str, text: str) -> bytes:
    """A clean PNG of the same symbology and content, with a quiet zone, scaled up to scan from a phone screen.

    A format zxing-cpp cannot write (or content it refuses for that format) falls back to a QR code of the text."""
    try:
        barcode = zxingcpp.create_barcode(_content(format, text), zxingcpp.barcode_format_from_str(format))
    except (ValueError, RuntimeError):
        barcode = zxingcpp.create_barcode(_content("QRCode", text), zxingcpp.BarcodeFormat.QRCode)
    height, width = barcode.to_image(scale=1).shape[:2]
    scale = max(2, math.ceil(RENDER_SIDE / max(width, height)))
    image = Image.fromarray(np.asarray(barcode.to_image(scale=scale)))
    image = ImageOps.expand(image, border=scale * RENDER_QUIET_MODULES, fill=255)
    output = io.BytesIO()
    image.save(output, "PNG", optimize=True)
    return output.getvalue()
