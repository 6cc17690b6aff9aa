"""Large PNGs decoded reduced, strip by strip, as libjpeg's draft mode does for JPEG: Pillow has no draft for PNG and
would hold the whole image (a 150 KB PNG declaring 6300x6300 RGB takes 159 MB decoded).

The image data is inflated a strip of rows at a time; each strip becomes a small PNG of its own (the row above it
prepended unfiltered, so Up, Average and Paeth filters see the right neighbours) that Pillow decodes, box-reduces by
an integer factor and pastes into the reduced picture. What is held at once: one strip, and the reduced picture.
Only 8-bit, non-interlaced PNGs (photos, screenshots, bombs) are read this way; `None` tells the caller to decode as
usual within the budget.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
STRIP_BYTES = 4 * 1024 * 1024  # inflated image data decoded at once
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by PNG colour type: grey, RGB, palette, grey + alpha, RGBA
_RAW_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}


@dataclass(frozen=True)
class _Header:
    width: int
    height: int
    color_type: int
    ihdr: bytes  # the IHDR chunk's body, its height field rewritten per strip
    palette: bytes  # PLTE and tRNS chunks as they are, for palette images


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of each chunk, up to IEND or the end of the data."""
    at = len(SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if len(body) < length:
            raise EOFError("truncated PNG chunk")
        yield kind, body
        if kind == b"IEND":
            return
        at += 12 + length


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _header(data: bytes) -> _Header | None:
    palette = b""
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body[:13])
            if depth != 8 or interlace or color_type not in _CHANNELS:
                return None
            header = (width, height, color_type, body[:13])
        elif kind in (b"PLTE", b"tRNS"):
            palette += _chunk(kind, body)
        elif kind == b"IDAT":
            width, height, color_type, ihdr = header
            return _Header(width, height, color_type, ihdr, palette if color_type == 3 else b"")
    return None


def _inflated(data: bytes, size: int) -> Iterator[bytes]:
    """The image data inflated, `size` bytes at a time (the last piece may be shorter); never more at once."""
    inflater = zlib.decompressobj()
    pending = bytearray()
    for kind, body in _chunks(data):
        if kind != b"IDAT":
            continue
        while body:
            pending += inflater.decompress(body, size - len(pending))
            body = inflater.unconsumed_tail
            if len(pending) == size:
                yield bytes(pending)
                pending.clear()
    if pending:
        yield bytes(pending)


def _strip_image(header: _Header, above: bytes, rows: bytes, count: int) -> Image.Image:
    """`count` filtered rows decoded by Pillow, with the unfiltered row above them as the PNG's first row."""
    ihdr = struct.pack(">II", header.width, count + 1) + header.ihdr[8:]
    idat = zlib.compress(b"\0" + above + rows, 0)  # stored: the rows are inflated already, this only frames them
    strip = Image.open(io.BytesIO(SIGNATURE + _chunk(b"IHDR", ihdr) + header.palette + _chunk(b"IDAT", idat)
                                  + _chunk(b"IEND", b"")))  # fmt: skip
    strip.load()
    return strip


def _reducible(strip: Image.Image) -> Image.Image:
    if strip.mode == "P":
        return strip.convert("RGBA" if "transparency" in strip.info else "RGB")
    return strip


def decode_reduced(data: bytes, factor: int) -> Image.Image | None:
    """The PNG in `data`, every side divided by `factor` (box-averaged), or None where it is not an 8-bit,
    non-interlaced PNG. Raises what Pillow raises for broken data, and EOFError where the data stops short."""
    header = _header(data)
    if header is None:
        return None
    row_bytes = 1 + header.width * _CHANNELS[header.color_type]
    rows_per_strip = max(1, STRIP_BYTES // row_bytes // factor) * factor
    raw_mode = _RAW_MODES[header.color_type]
    above = bytes(row_bytes - 1)  # the row above the first: zeros, as the PNG filters define it
    reduced: Image.Image | None = None
    top = 0
    for rows in _inflated(data, rows_per_strip * row_bytes):
        count = min(len(rows) // row_bytes, header.height - top)
        if count <= 0:
            break
        strip = _strip_image(header, above, rows[: count * row_bytes], count)
        above = strip.crop((0, count, header.width, count + 1)).tobytes("raw", raw_mode)
        part = _reducible(strip.crop((0, 1, header.width, count + 1))).reduce(factor)
        if reduced is None:
            reduced = Image.new(part.mode, (-(-header.width // factor), -(-header.height // factor)), "white")
        reduced.paste(part, (0, top // factor))
        top += count
    if reduced is None or top < header.height:
        raise EOFError("the PNG's image data stops short")
    return reduced
