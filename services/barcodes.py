"""Barcode photos: validate within a memory budget, normalise, decode (zxing-cpp, then pyzbar), hash (pHash), and
re-render a clean barcode image.

The image libraries (numpy, Pillow, pyzbar) come with this module: it is imported where a photo is read or a
barcode drawn, on first use, not at start-up (the values and rules are services/barcode_values.py's). Nothing here
logs or puts barcode text into an exception message: the text is the secret ticket.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import imagehash
import numpy as np
import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from services import png_strips, webp_scaled, zbar_engine
from services.barcode_values import MAX_DECODED_BYTES, Barcode, check_budget, in_scanner, usable_or_refuse
from services.errors import DomainError

JPEG_FORMATS = frozenset({"JPEG", "MPO"})  # MPO: the multi-picture JPEG some phone cameras write
ACCEPTED_FORMATS = JPEG_FORMATS | {"PNG", "WEBP"}
MAX_SIDE = 2048  # the long side of the stored photo
# libjpeg scales by 1/2, 1/4 or 1/8 while decoding: a 12 MP photo (4000 px) decodes straight to 2000 px rather
# than at full size and then resized, 4x less memory and a third of the time for a barely smaller picture
DRAFT_SIDE = 1536
JPEG_QUALITY = 85
PHASH_BASE = 128  # box-shrunk to this square before pHash's own Lanczos to 32x32: same hash, 50x faster
SMALL_SIDE = 1024  # photos up to this long side get a second look, upscaled, when nothing was found
# The costly views are tried only where this share of pixels sits on a sharp edge (a barcode's bars and modules):
# a photo of no code has almost none, the blurriest readable codes of the corpus have 1 %.
CODE_EDGE_SHARE = 0.005
EDGE_STEP = 48  # a grey-level step between neighbours that counts as a sharp edge
EDGE_SIDE = 512  # the edge share is measured on the image shrunk to this long side
# A tilted PDF417 (zxing-cpp's detector wants its rows near horizontal) is turned upright by the angle most sharp
# edges share, measured on the image box-shrunk to about TILT_SIDE and smoothed (unsmoothed, the thin bars' steps
# lean towards 45 degrees: within 1 degree on the corpus so, 2.5 ms); a tilt under MIN_TILT degrees is read as it is.
TILT_SIDE = 512
TILT_BLUR = 1.5
TILT_EDGE = 24  # a grey-level difference across two pixels that counts as an edge, once smoothed
MIN_TILT = 5
# What the upright view is read for: codes of rows and bars, whose detectors want them near level (2D matrix codes
# are found at any angle already); a third of the time of every format with inverted search.
ROW_FORMATS = (zxingcpp.BarcodeFormat.PDF417, zxingcpp.BarcodeFormat.LinearCodes)
RENDER_SIDE = 600  # the rendered barcode's long side is at least this many pixels
RENDER_QUIET_MODULES = 4  # extra white margin around the rendered symbol, in modules

# Pillow raises these for files that are not images, truncated or corrupt.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)
_BINARIZERS = (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram)


@dataclass(frozen=True)
class ScannedPhoto:
    barcodes: tuple[Barcode, ...]
    phash: str  # 16 hex characters
    jpeg: bytes  # upright, RGB, at most MAX_SIDE on the long side, no EXIF: what is stored and shown to the buyer
    width: int
    height: int


def _open(data: bytes, max_bytes: int, max_decoded_bytes: int) -> Image.Image:
    """The image behind `data`, header checked (size, format, pixel count, decoded size) before any pixel is
    decoded."""
    if len(data) > max_bytes:
        raise DomainError("photo-too-large")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise DomainError("photo-too-many-pixels") from None
    except _DECODE_ERRORS:
        raise DomainError("photo-not-image") from None
    if image.format not in ACCEPTED_FORMATS:
        raise DomainError("photo-format")
    check_budget("L", image.size, max_decoded_bytes)
    if (reduced := _reduced(data, image)) is not None:
        reduced.info = dict(image.info)  # the EXIF orientation, applied once shrunk
        return reduced
    if image.format in JPEG_FORMATS:  # let libjpeg scale down while decoding: less memory and time for huge photos
        width, height = image.size
        ratio = min(1.0, DRAFT_SIDE / max(width, height))
        image.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
    check_budget(image.mode, image.size, max_decoded_bytes)
    return _load(image)


def _reduced(data: bytes, image: Image.Image) -> Image.Image | None:
    """A large PNG decoded strip by strip, box-reduced by an integer factor to at least DRAFT_SIDE; a large lossy
    WebP decoded by libwebp straight to MAX_SIDE. None where neither applies (small, 16-bit or interlaced PNGs,
    lossless WebP, no libwebp): decoded as usual, within the budget."""
    width, height = image.size
    try:
        if image.format == "PNG" and (factor := max(width, height) // DRAFT_SIDE) > 1:
            return png_strips.decode_reduced(data, factor)
        if image.format == "WEBP" and (ratio := MAX_SIDE / max(width, height)) < 1:
            return webp_scaled.decode_reduced(data, (max(1, round(width * ratio)), max(1, round(height * ratio))))
    except (*_DECODE_ERRORS, zlib.error):
        raise DomainError("photo-not-image") from None
    return None


def _load(image: Image.Image) -> Image.Image:
    try:
        image.load()
    except Image.DecompressionBombError:
        raise DomainError("photo-too-many-pixels") from None
    except _DECODE_ERRORS:
        raise DomainError("photo-not-image") from None
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


def _costly_views(gray: Image.Image) -> Iterator[tuple[Image.Image, tuple[zxingcpp.Binarizer, ...]]]:
    """For a small photo, twice the size (modules too thin for the detector) and the same sharpened (blurry phone
    shots), with the binarizers worth a pass on each: on the corpus, GlobalHistogram rescues nothing once sharpened."""
    if max(gray.size) <= SMALL_SIDE:
        upscaled = _upscaled(gray)
        yield upscaled, _BINARIZERS
        yield _sharpened(upscaled), _BINARIZERS[:1]


def _upscaled(gray: Image.Image) -> Image.Image:
    return gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.BICUBIC)


def _looks_like_code(gray: Image.Image) -> bool:
    """Enough sharp edges for a barcode to be there: costs a millisecond, saves the costly views on plain photos."""
    small = gray.copy()
    small.thumbnail((EDGE_SIDE, EDGE_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.int16)
    across = np.abs(np.diff(pixels, axis=1))[:-1, :] > EDGE_STEP
    down = np.abs(np.diff(pixels, axis=0))[:, :-1] > EDGE_STEP
    return bool((across | down).mean() >= CODE_EDGE_SHARE)


def _tilt(gray: Image.Image) -> int:
    """The angle, in degrees from -45 to 45, that turns the image's strongest edges upright. Bars and rows fold
    together (modulo 90): either set of edges tells the same tilt."""
    factor = round(max(gray.size) / TILT_SIDE)
    small = gray.reduce(factor) if factor > 1 else gray
    pixels = np.asarray(small.filter(ImageFilter.GaussianBlur(TILT_BLUR)), dtype=np.float32)
    across = pixels[1:-1, 2:] - pixels[1:-1, :-2]
    down = pixels[2:, 1:-1] - pixels[:-2, 1:-1]
    strength = across * across + down * down
    edges = strength > TILT_EDGE * TILT_EDGE
    angles = np.degrees(np.arctan2(down[edges], across[edges])).astype(np.int64) % 90
    votes = np.bincount(angles, weights=np.sqrt(strength[edges]), minlength=90)
    peak = int(np.argmax(votes + np.roll(votes, 1) + np.roll(votes, -1)))
    return peak if peak <= 45 else peak - 90


def _upright(gray: Image.Image) -> Image.Image | None:
    """The image turned by its tilt, or None where it is not tilted."""
    tilt = _tilt(gray)
    if abs(tilt) < MIN_TILT:
        return None
    if max(gray.size) <= SMALL_SIDE:  # thin modules would blur away in the turn
        gray = _upscaled(gray)
    return gray.rotate(tilt, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)


def _zxing(view: Image.Image, binarizer: zxingcpp.Binarizer, **options: Any) -> tuple[tuple[Barcode, ...], bool]:
    """The valid barcodes zxing-cpp reads in one pass, and whether it saw a symbol it could not read (a failed
    checksum, a damaged code)."""
    found = zxingcpp.read_barcodes(
        view, binarizer=binarizer, text_mode=zxingcpp.TextMode.Plain, return_errors=True, **options
    )
    valid = tuple(dict.fromkeys(Barcode(result.format.name, result.text) for result in found if result.valid))
    return valid, len(valid) < len(found)


def quick_read(gray: Image.Image) -> tuple[Barcode, ...]:
    """One zxing-cpp pass for a clean, upright picture (a rendered PDF page): no rotated or inverted search."""
    found = zxingcpp.read_barcodes(gray, text_mode=zxingcpp.TextMode.Plain, try_rotate=False, try_invert=False)
    return tuple(dict.fromkeys(Barcode(result.format.name, result.text) for result in found if result.valid))


def _zbar_once(gray: Image.Image) -> tuple[Barcode, ...]:
    return tuple(dict.fromkeys(Barcode(format, text) for format, text in zbar_engine.read_linear(gray)))


def _sharpened(gray: Image.Image) -> Image.Image:
    return gray.filter(ImageFilter.UnsharpMask(radius=3, percent=200, threshold=0))


def _zbar(gray: Image.Image) -> tuple[Barcode, ...]:
    """libzbar's linear reads that it repeats on a second view: sharpened, else (a small image) twice the size. A
    single read of a noisy photo can pass its check digit and be wrong (two corpus EAN-13 photos, recompressed as
    Telegram does, read so); the right ones come back on the other views."""
    found = _zbar_once(gray)
    if not found:
        return ()
    confirmed: set[Barcode] = set()
    for view in _confirming_views(gray):
        confirmed.update(set(found) & set(_zbar_once(view)))
        if confirmed == set(found):
            break
    return tuple(barcode for barcode in found if barcode in confirmed)


def _confirming_views(gray: Image.Image) -> Iterator[Image.Image]:
    yield _sharpened(gray)
    if max(gray.size) <= SMALL_SIDE:
        yield _upscaled(gray)


def _second_opinion(gray: Image.Image, barcodes: tuple[Barcode, ...]) -> tuple[Barcode, ...]:
    """A linear code zxing-cpp read beside failed checksums is a shaky read (the corpus has a valid-looking misread
    of this kind): libzbar's reading of the linear codes replaces zxing-cpp's where it has one."""
    if not any(barcode.format in zbar_engine.LINEAR for barcode in barcodes) or not (linear := _zbar(gray)):
        return barcodes
    return tuple(barcode for barcode in barcodes if barcode.format not in zbar_engine.LINEAR) + linear


def _as_it_is(
    gray: Image.Image, binarizer: zxingcpp.Binarizer, second_engine: bool
) -> tuple[tuple[Barcode, ...], bool]:
    """One zxing-cpp pass on the image as it is, linear reads beside failed checksums put to libzbar; and whether
    it saw a symbol it could not read."""
    barcodes, unreadable = _zxing(gray, binarizer)
    if barcodes and unreadable and second_engine:
        return _second_opinion(gray, barcodes), unreadable
    return barcodes, unreadable


def decode(gray: Image.Image, *, second_engine: bool = True) -> tuple[Barcode, ...]:
    """Every valid barcode in a grayscale image, each once, through a cascade that stops at the first step that
    finds any: zxing-cpp's LocalAverage binarizer on the image as it is (it reads most photos); pyzbar for linear
    codes where libzbar is installed (it reads blurred EAN-13 that zxing-cpp misses, and has the last word on a
    linear code zxing-cpp read beside failed checksums); then, only for an image that looks like it holds a code (a
    plain photo stops here, at a fraction over a hit's cost), GlobalHistogram (some low-contrast codes), the image
    turned upright by its tilt (a tilted PDF417) and the costly views."""
    barcodes, suspect = _as_it_is(gray, _BINARIZERS[0], second_engine)
    if barcodes:
        return barcodes
    if second_engine and (barcodes := _zbar(gray)):
        return barcodes
    if not suspect and not _looks_like_code(gray):
        return ()
    if barcodes := _as_it_is(gray, _BINARIZERS[1], second_engine)[0]:
        return barcodes
    upright = _upright(gray)
    if upright is not None and (barcodes := _zxing(upright, _BINARIZERS[0], formats=ROW_FORMATS, try_invert=False)[0]):
        return barcodes
    for view, binarizers in _costly_views(gray):
        for binarizer in binarizers:
            if barcodes := _zxing(view, binarizer)[0]:
                return barcodes
    return ()


def normalised_photo(data: bytes, *, max_bytes: int, max_decoded_bytes: int = MAX_DECODED_BYTES) -> Image.Image:
    """The photo behind `data`, checked, upright, RGB, at most MAX_SIDE on the long side. Raises DomainError."""
    return _normalise(_open(data, max_bytes, max_decoded_bytes))


def jpeg_of(image: Image.Image) -> bytes:
    """What is stored and shown to the buyer: JPEG, no EXIF."""
    output = io.BytesIO()
    image.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return output.getvalue()


def phash_of(gray: Image.Image) -> str:
    return str(imagehash.phash(gray.resize((PHASH_BASE, PHASH_BASE), Image.Resampling.BOX)))


def scan_photo(data: bytes, *, max_bytes: int, max_decoded_bytes: int = MAX_DECODED_BYTES) -> ScannedPhoto:
    """Validate, normalise and decode a photo of a ticket; only usable barcodes are kept. Raises DomainError
    (photo-too-large, photo-not-image, photo-format, photo-too-many-pixels, barcode-unusable). CPU-bound: see
    scan_photo_async."""
    image = normalised_photo(data, max_bytes=max_bytes, max_decoded_bytes=max_decoded_bytes)
    gray = image.convert("L")
    return ScannedPhoto(
        barcodes=usable_or_refuse(decode(gray)),
        phash=phash_of(gray),
        jpeg=jpeg_of(image),
        width=image.width,
        height=image.height,
    )


async def scan_photo_async(data: bytes, *, max_bytes: int) -> ScannedPhoto:
    """scan_photo on the scanner threads."""
    return await in_scanner(lambda: scan_photo(data, max_bytes=max_bytes))


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
