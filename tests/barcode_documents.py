"""Documents made from barcodes, as sellers hold them: phone photos (tilted, blurred, recompressed as Telegram does),
PDF e-tickets (a page image, or the code drawn as vector rectangles) and Wallet passes. Each is a fixed,
reproducible file: the tests, the end-to-end tests and the benchmark make the same ones."""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
import zlib
from typing import Any

import numpy as np
import zxingcpp
from PIL import Image, ImageEnhance, ImageFilter

from services.barcodes import render_barcode_png

TELEGRAM_SIDE = 1280  # Telegram stores a sent photo at most this long on its long side, as JPEG
TELEGRAM_QUALITY = 87
A4_POINTS = (595, 842)


def code_image(format: str, text: str) -> Image.Image:
    return Image.open(io.BytesIO(render_barcode_png(format, text))).convert("L")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    output = io.BytesIO()
    image.convert("RGB").save(output, "JPEG", quality=quality)
    return output.getvalue()


def png(image: Image.Image) -> bytes:
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


def telegram_photo(image: Image.Image) -> bytes:
    """As Telegram recompresses a photo sent as a photo: shrunk to 1280 on the long side, JPEG quality 87."""
    image = image.convert("RGB")
    image.thumbnail((TELEGRAM_SIDE, TELEGRAM_SIDE), Image.Resampling.LANCZOS)
    return jpeg(image, TELEGRAM_QUALITY)


def _scene(size: tuple[int, int], seed: int) -> Image.Image:
    """A smooth, textured background: a table or a hand, not a barcode."""
    rng = random.Random(seed)
    grid = (size[0] // 64 + 2, size[1] // 64 + 2)
    noise = Image.frombytes("L", grid, rng.randbytes(grid[0] * grid[1]))
    return noise.resize(size, Image.Resampling.BICUBIC).point(lambda v: 90 + v // 3)


def on_scene(code: Image.Image, size: tuple[int, int], share: float, seed: int = 1) -> Image.Image:
    """`code` (with a white paper margin) pasted at the middle of a scene, covering `share` of its area."""
    paper = Image.new("L", (code.width + 80, code.height + 80), 255)
    paper.paste(code, (40, 40))
    scale = (share * size[0] * size[1] / (paper.width * paper.height)) ** 0.5
    paper = paper.resize((round(paper.width * scale), round(paper.height * scale)), Image.Resampling.BICUBIC)
    scene = _scene(size, seed)
    scene.paste(paper, ((size[0] - paper.width) // 2, (size[1] - paper.height) // 2))
    return scene


def rotated(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def perspective(image: Image.Image, pull: float = 0.15) -> Image.Image:
    """As shot from below and to the side: the top edge shorter than the bottom one."""
    width, height = image.size
    inset = pull * width
    # PIL's perspective maps output corners to input points: top-left, top-right, bottom-right, bottom-left
    quad = (-inset, 0, width + inset, 0, width, height, 0, height)
    return image.transform(image.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=255)


def low_contrast(image: Image.Image) -> Image.Image:
    return ImageEnhance.Contrast(image).enhance(0.35)


def blurred(image: Image.Image, radius: float = 1.5) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def png_bomb(side: int, color_type: int, *, depth: int = 8, interlace: int = 0) -> bytes:
    """A white side x side PNG (colour type 0: grey, 2: RGB), written row by row without Pillow: a decompression
    bomb of a few hundred KB at 6300 px a side."""
    channels = 3 if color_type == 2 else 1
    squeeze = zlib.compressobj(9)
    row = b"\0" + b"\xff" * (side * channels * depth // 8)
    idat = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, depth, color_type, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def pdf_of_images(pages: list[Image.Image]) -> bytes:
    """A PDF whose pages are these images (Pillow writes each as one page-filling picture), as scanners make."""
    output = io.BytesIO()
    first, *rest = [page.convert("RGB") for page in pages]
    first.save(output, "PDF", save_all=True, append_images=rest, resolution=150)
    return output.getvalue()


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (1 is the catalogue), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _text_page(words: str) -> bytes:
    return b"BT /F1 18 Tf 60 760 Td (" + words.encode("latin-1") + b") Tj ET"


def _vector_code(format: str, text: str, size_points: float, at: tuple[float, float]) -> bytes:
    """The code drawn as filled rectangles, one a dark module, as e-ticket generators draw them."""
    matrix = np.asarray(zxingcpp.create_barcode(text, zxingcpp.barcode_format_from_str(format)).to_image(scale=1))
    rows, columns = matrix.shape[:2]
    module = size_points / max(rows, columns)
    rects = [
        b"%.2f %.2f %.2f %.2f re" % (at[0] + x * module, at[1] + (rows - 1 - y) * module, module, module)
        for y in range(rows)
        for x in range(columns)
        if matrix[y, x] < 128
    ]
    return b"0 g\n" + b"\n".join(rects) + b"\nf"


def vector_pdf(pages: list[tuple[str, str] | None], *, words: str = "E-TICKET") -> bytes:
    """An A4 e-ticket of len(pages) pages: each page a line of text and, where given, a (format, text) code drawn as
    vectors, 5 cm wide."""
    kids = " ".join(f"{3 + 2 * index} 0 R" for index in range(len(pages))).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages)]
    font = 3 + 2 * len(pages)
    for index, code in enumerate(pages):
        content = _text_page(f"{words} page {index + 1}")
        if code:
            content += b"\n" + _vector_code(*code, size_points=142, at=(60, 500))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R"
            b" >> >> >>" % (*A4_POINTS, 4 + 2 * index, font)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf(objects)


def pdf_with_tiny_picture(picture: Image.Image, side_points: float) -> bytes:
    """One A4 page showing `picture` (kept at its own resolution in the file) only `side_points` wide: too small to
    read once rendered, readable as the embedded image."""
    grey = picture.convert("L")
    pixels = zlib.compress(grey.tobytes())
    content = b"q %.2f 0 0 %.2f 60 600 cm /Im1 Do Q" % (side_points, side_points * grey.height / grey.width)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >>"
        b" >> >>" % A4_POINTS,
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8"
        b" /Filter /FlateDecode /Length %d >>\nstream\n" % (grey.width, grey.height, len(pixels)) + pixels
        + b"\nendstream",
    ])  # fmt: skip


def empty_pdf() -> bytes:
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def encrypted_pdf() -> bytes:
    """A one-page PDF under the standard security handler with a user password (not empty): it opens for nobody."""
    body = vector_pdf([("QRCode", "TICKET-LOCKED")])
    trailer = body.rindex(b"trailer")
    encrypt = (b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32
               + b"> >>")  # fmt: skip
    number = body.count(b" obj\n") + 1
    xref = body.index(b"xref\n")
    objects = body[:xref] + b"%d 0 obj\n" % number + encrypt + b"\nendobj\n"
    new_xref = len(objects)
    entries = [*body[xref:trailer].split(b"\n")[2:-1], b"%010d 00000 n " % xref]
    table = b"xref\n0 %d\n" % (number + 1) + b"\n".join(entries) + b"\n"
    tail = b"trailer\n<< /Size %d /Root 1 0 R /Encrypt %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        number + 1, number, b"ab" * 16, b"ab" * 16, new_xref)  # fmt: skip
    return objects + table + tail


def wallet_pass(content: dict[str, Any] | None, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A .pkpass: pass.json (None: left out), an icon, a manifest and a signature that signs nothing."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        if content is not None:
            archive.writestr("pass.json", json.dumps(content))
        archive.writestr("icon.png", png(Image.new("RGB", (29, 29), "navy")))
        archive.writestr("manifest.json", json.dumps({"pass.json": "0" * 40}))
        archive.writestr("signature", random.Random(7).randbytes(256))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return output.getvalue()


def event_pass(barcodes: list[dict[str, str]], **fields: Any) -> dict[str, Any]:
    """A pass.json of an event ticket: its barcodes, an event, a venue and a date in the pass's fields."""
    return {
        "formatVersion": 1,
        "passTypeIdentifier": "pass.ru.example.tickets",
        "serialNumber": "E-000123",
        "teamIdentifier": "ABCDE12345",
        "organizationName": "Ticket office",
        "description": "Ticket",
        "relevantDate": "2026-12-24T19:00+03:00",
        "barcodes": barcodes,
        "eventTicket": {
            "primaryFields": [{"key": "event", "label": "EVENT", "value": "Nutcracker"}],
            "secondaryFields": [{"key": "venue", "label": "VENUE", "value": "Bolshoi Theatre"}],
        },
        **fields,
    }
