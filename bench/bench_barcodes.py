"""Barcodes: correct reads on the repository's corpus (as files and as Telegram-recompressed photos) by the bot's
cascade, by zxing-cpp alone and by pyzbar alone, in one interleaved run; misreads where the symbology has a check
digit; scan times for small images, a 12 MP photo, a miss and a 3-page PDF e-ticket; near-duplicate photo lookup
time at 10K and 1M stored hashes on SQLite.

Every image goes through the four readers in turn before the next one, over --rounds rounds, so that the load of
the machine falls on all of them alike. "bot" is `services.barcodes.decode` (zxing-cpp's passes, pyzbar for linear
codes where libzbar0 is installed, the upright and costly views); "bot, no pyzbar" the same cascade without pyzbar,
as the bot runs where libzbar0 is missing; "zxing-cpp" one zxing-cpp pass with its defaults; "pyzbar" libzbar
alone (every symbology it knows). Scan times are `services.ticket_upload.scan_upload` end to end, each
upload timed in turn with zxing-cpp alone on it (Pillow's whole decode, one default `read_barcodes` pass): the
ratio between the two, taken in the same run, is the figure to compare across machines and loads.

Run: python -m bench.bench_barcodes [--rounds 3] [--sizes 10000 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from bench._load import load_sqlite, market, percentiles
from db.engine import create_engine, create_sessionmaker
from db.repo import Repo
from db.repositories.originality import phash_bands
from services import zbar_engine
from services.barcode_values import Barcode
from services.barcodes import decode, normalised_photo
from services.errors import DomainError
from services.originality import near_photos
from services.ticket_upload import DocumentKind, ScanLimits, kind_of, scan_upload
from services.tickets_pdf import RENDER_DPI
from tests import barcode_documents as docs

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "barcodes"
LIMITS = ScanLimits(max_bytes=20 * 1024 * 1024)
CHECK_DIGIT = {"ean13", "itf"}  # the corpus's symbologies whose check digit every reader verifies
ENGINES = ("bot", "bot, no pyzbar", "zxing-cpp", "pyzbar")
REPEAT = 200
NEAR = 20  # near-duplicates of the query planted in the table, within 1..6 bits


def _pyzbar_alone(gray: Image.Image) -> tuple[Barcode, ...]:
    if zbar_engine.pyzbar is None:
        return ()
    found = zbar_engine.pyzbar.decode(gray)
    return tuple(Barcode(result.type, result.data.decode("latin-1")) for result in found)


def _zxing_pass(gray: Image.Image) -> tuple[Barcode, ...]:
    """zxing-cpp alone: one `read_barcodes` pass with its defaults (rotations, inverted, downscaled), in the text
    mode the bot reads in, so that binary contents compare alike."""
    found = zxingcpp.read_barcodes(gray, text_mode=zxingcpp.TextMode.Plain)
    return tuple(Barcode(result.format.name, result.text) for result in found if result.valid)


READERS: dict[str, Callable[[Image.Image], tuple[Barcode, ...]]] = {
    "bot": decode,
    "bot, no pyzbar": lambda gray: decode(gray, second_engine=False),
    "zxing-cpp": _zxing_pass,
    "pyzbar": _pyzbar_alone,
}


@dataclass
class Tally:
    read: int = 0
    misread: int = 0
    total: int = 0
    times: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Sample:
    symbology: str
    name: str
    expected: bytes
    binary: bool

    def matches(self, barcode: Barcode) -> bool:
        return barcode.text.encode("latin-1" if self.binary else "utf-8", "replace") == self.expected


def _samples() -> Iterator[tuple[Sample, bytes]]:
    for path in sorted(CORPUS.glob("*/*")):
        if path.suffix not in {".png", ".jpg", ".webp"}:
            continue
        binary = not path.with_suffix(".txt").exists()
        expected = path.with_suffix(".bin" if binary else ".txt").read_bytes()
        yield Sample(path.parent.name, path.stem, expected, binary), path.read_bytes()


def _corpus(rounds: int) -> None:
    tallies = {(engine, form): Tally() for engine in ENGINES for form in ("file", "telegram")}
    per_symbology: dict[tuple[str, str], list[int]] = {}
    samples = list(_samples())
    for round_ in range(rounds):
        for sample, data in samples:
            forms = {"file": data, "telegram": docs.telegram_photo(Image.open(io.BytesIO(data)))}
            for form, upload in forms.items():
                gray = normalised_photo(upload, max_bytes=LIMITS.max_bytes).convert("L")
                for engine in ENGINES:
                    started = time.perf_counter()
                    found = READERS[engine](gray)
                    tally = tallies[engine, form]
                    tally.times.append(time.perf_counter() - started)
                    if round_:
                        continue
                    hit = any(map(sample.matches, found))
                    tally.read += hit
                    tally.total += 1
                    tally.misread += sample.symbology in CHECK_DIGIT and not all(map(sample.matches, found))
                    if form == "file":
                        counts = per_symbology.setdefault((engine, sample.symbology), [0, 0])
                        counts[0] += hit
                        counts[1] += 1
    zbar = "present" if zbar_engine.AVAILABLE else "ABSENT"
    print(f"Corpus tests/data/barcodes ({len(samples)} images, {rounds} interleaved rounds; libzbar {zbar})")
    print(f"  {'engine':<15} {'form':<9} {'read':>9} {'rate':>7} {'misreads*':>9}   decode time (p50 / p95 ms)")
    for (engine, form), tally in tallies.items():
        p50, p95 = percentiles(tally.times)
        print(f"  {engine:<15} {form:<9} {tally.read:>4}/{tally.total:<4} {tally.read / tally.total:7.1%} "
              f"{tally.misread:>9}   {p50:6.1f} / {p95:6.1f}")  # fmt: skip
    print("  * misreads: any wrong text read where the symbology has a check digit (EAN-13, ITF)")
    symbologies = sorted({symbology for _, symbology in per_symbology})
    print("  per symbology, as files: " + "  ".join(f"{s}" for s in symbologies))
    for engine in ENGINES:
        cells = [f"{per_symbology[engine, s][0]}/{per_symbology[engine, s][1]}" for s in symbologies]
        print(f"    {engine:<15} " + "  ".join(cells))


def _scan(data: bytes) -> float:
    started = time.perf_counter()
    with contextlib.suppress(DomainError):  # a miss is refused ("no-barcode"): its cost counts all the same
        scan_upload(data, limits=LIMITS)
    return time.perf_counter() - started


def _zxing_alone(data: bytes) -> float | None:
    """The anchor: zxing-cpp alone on the same upload, Pillow's whole decode to grey and one `read_barcodes` pass
    with its defaults; a PDF's pages rendered in grey at the bot's resolution, a pass each. None for a pass (no
    image to read)."""
    kind = kind_of(data)
    started = time.perf_counter()
    if kind is DocumentKind.PDF:
        document = pdfium.PdfDocument(data)
        for page in document:
            zxingcpp.read_barcodes(page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil().convert("L"))
        document.close()
    elif kind is DocumentKind.PASS:
        return None
    else:
        zxingcpp.read_barcodes(Image.open(io.BytesIO(data)).convert("L"))
    return time.perf_counter() - started


def _uploads() -> dict[str, bytes]:
    code = docs.code_image("QRCode", "TICKET-2026-000123-ABCDEF")
    blank = Image.new("L", code.size, 255)
    pdf417 = {"format": "PKBarcodeFormatPDF417", "message": "TICKET-PASS-1"}
    three_pages = [("QRCode", "A-0001"), ("PDF417", "B-0002"), ("Aztec", "C-0003")]
    return {
        "12 MP photo (JPEG), a QR code on 5 %": docs.jpeg(docs.on_scene(code, (4000, 3000), 0.05), 92),
        "12 MP PNG, a QR code on 5 %": docs.png(docs.on_scene(code, (4000, 3000), 0.05)),
        "Telegram photo 1280x960, QR code": docs.telegram_photo(docs.on_scene(code, (1600, 1200), 0.25)),
        "Telegram photo 1280x960, no code (a miss)": docs.telegram_photo(docs.on_scene(blank, (1600, 1200), 0.25)),
        "Telegram photo, PDF417 tilted 30 degrees": docs.telegram_photo(
            docs.rotated(docs.on_scene(docs.code_image("PDF417", "TICKET-TILT-30"), (1600, 1200), 0.25), 30)
        ),
        "3-page PDF e-ticket, a code a page": docs.vector_pdf(three_pages),
        "2-page PDF e-ticket, QR code on page 2": docs.vector_pdf([None, ("QRCode", "T-2")]),
        "Wallet pass, PDF417": docs.wallet_pass(docs.event_pass([pdf417])),
    }


def _line(name: str, bot: list[float], alone: list[float | None]) -> str:
    p50, p95 = percentiles(bot)
    line = f"  {name:<44} {p50:7.1f} {p95:7.1f}"
    if None in alone:
        return line + "       -       -      -"
    z50, z95 = percentiles([time for time in alone if time is not None])
    return line + f" {z50:7.1f} {z95:7.1f} {p50 / z50:6.2f}x"


def _scans(rounds: int) -> None:
    small = [data for _, data in _samples()]
    uploads = _uploads()
    for data in uploads.values():
        _scan(data)  # warm: pdfium's and zxing-cpp's first calls
        _zxing_alone(data)
    bot: dict[str, list[float]] = {"small corpus images": []}
    alone: dict[str, list[float | None]] = {"small corpus images": []}
    for _ in range(max(5, 3 * rounds)):  # interleaved: one of each in turn, the bot and zxing-cpp alone
        for name, data in uploads.items():
            bot.setdefault(name, []).append(_scan(data))
            alone.setdefault(name, []).append(_zxing_alone(data))
    for _ in range(rounds):
        for data in small:
            bot["small corpus images"].append(_scan(data))
            alone["small corpus images"].append(_zxing_alone(data))
    print(f"scan_upload end to end (checks, decode, normalise, pHash, JPEG; {rounds} rounds) against zxing-cpp alone")
    print(f"  {'upload':<44} {'bot p50':>7} {'p95':>7} {'zx p50':>7} {'p95':>7} {'ratio':>7}  (ms; ratio of p50s)")
    for name, times in bot.items():
        print(_line(name, times, alone[name]))


def _hashes(count: int, query: int, rng: random.Random) -> Iterator[tuple[int, int, int]]:
    """(ticket_id, band, value) rows: random hashes, and NEAR planted near `query`, spread through the table."""
    planted = set(rng.sample(range(1, count + 1), NEAR))
    for ticket_id in range(1, count + 1):
        value = rng.getrandbits(64)
        if ticket_id in planted:
            value = query
            for bit in rng.sample(range(64), rng.randint(1, 6)):
                value ^= 1 << bit
        for band, part in enumerate(phash_bands(f"{value:016x}")):
            yield ticket_id, band, part


async def _load(path: Path, count: int, query: int) -> None:
    await load_sqlite(path, market(count))
    connection = sqlite3.connect(path)
    bands = _hashes(count, query, random.Random(2))
    connection.executemany("INSERT INTO photo_hash_bands (ticket_id, band, value) VALUES (?, ?, ?)", bands)
    connection.execute(  # the tickets' own photo_phash, from the bands just stored
        "UPDATE tickets SET photo_phash = (SELECT group_concat(printf('%02x', value), '') FROM "
        "(SELECT value FROM photo_hash_bands WHERE ticket_id = tickets.id ORDER BY band))"
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


async def _time(call: Callable[[], Awaitable[Any]]) -> str:
    for _ in range(5):
        await call()
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    p50, p95 = percentiles(samples)
    return f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"


async def _lookups(count: int) -> None:
    query = random.Random(3).getrandbits(64)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photos.db"
        started = time.perf_counter()
        await _load(path, count, query)
        print(
            f"Near-duplicate lookup, SQLite, {count:,} stored hashes (loaded in {time.perf_counter() - started:.0f} s)"
        )
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        async with create_sessionmaker(engine)() as session:
            photos = Repo(session)
            for max_distance in (6, 7):
                near = await near_photos(photos, f"{query:016x}", max_distance, exclude_seller_id=0)
                figure = await _time(lambda d=max_distance: near_photos(photos, f"{query:016x}", d, 0))
                print(f"  max distance {max_distance}, {len(near)} found: {figure}")
            fresh = f"{random.Random(4).getrandbits(64):016x}"
            figure = await _time(lambda: near_photos(photos, fresh, 6, exclude_seller_id=0))
            print(f"  an original photo (none near), max distance 6: {figure}")
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 1_000_000])
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load} on {os.cpu_count()} cores")
    _corpus(args.rounds)
    _scans(args.rounds)
    for count in args.sizes:
        await _lookups(count)


if __name__ == "__main__":
    asyncio.run(main())
