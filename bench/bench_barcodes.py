"""Barcode photos: decode rate per symbology, scan time and peak memory over the real corpus and on phone-sized
photos; near-duplicate photo lookup time at 10K and 1M stored hashes on SQLite.

Scans go through `services.barcodes.scan_photo` exactly as the bot calls it (checks, normalisation, decoding,
pHash, JPEG). The phone-sized photos are synthetic: a rendered barcode pasted on a textured scene, blurred, with
sensor noise, saved as JPEG. The lookup goes through `services.originality.near_photos` on a bulk-loaded database
(random 64-bit hashes, the query's near-duplicates planted among them).

Run: python -m bench.bench_barcodes [--corpus DIR] [--sizes 10000 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageFilter

from bench.bench_feed import TICKET_COLUMNS, USER_COLUMNS, _sqlite_value, _tickets, _users
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade_to_head
from db.repo import Repo
from db.repositories.originality import phash_bands
from services.barcodes import render_barcode_png, scan_photo
from services.originality import near_photos

LIMIT = 20 * 1024 * 1024
REPEAT = 200
NEAR = 20  # near-duplicates of the query planted in the table, within 1..6 bits
SELLER = 1


def _percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(0.95 * (len(samples) - 1))]
    median, top = statistics.median(samples), samples[-1]
    return f"median {median * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  max {top * 1000:6.1f} ms"


def _corpus(root: Path) -> None:
    rates: dict[str, tuple[int, int]] = {}
    times: list[float] = []
    for path in sorted(root.glob("*/*")):
        if path.suffix in {".txt", ".bin"}:
            continue
        binary = not path.with_suffix(".txt").exists()
        expected = path.with_suffix(".bin" if binary else ".txt").read_bytes()
        data = path.read_bytes()
        started = time.perf_counter()
        scanned = scan_photo(data, max_bytes=LIMIT)
        times.append(time.perf_counter() - started)
        hit = any(b.text.encode("latin-1" if binary else "utf-8", "replace") == expected for b in scanned.barcodes)
        found, total = rates.get(path.parent.name, (0, 0))
        rates[path.parent.name] = (found + hit, total + 1)
    print(f"Corpus {root} ({len(times)} images)")
    for symbology, (found, total) in rates.items():
        print(f"  {symbology:<12} {found:>3}/{total:<3} {found / total:6.1%}")
    found, total = sum(f for f, _ in rates.values()), sum(t for _, t in rates.values())
    print(f"  {'all':<12} {found:>3}/{total:<3} {found / total:6.1%}")
    print(f"  scan time per image: {_percentiles(times)}")


def _phone_photo(size: tuple[int, int], format: str | None, text: str, rng: random.Random) -> bytes:
    width, height = size
    grid = (width // 64 + 1, height // 64 + 1)
    scene = Image.frombytes("L", grid, rng.randbytes(grid[0] * grid[1])).resize(size, Image.Resampling.BICUBIC)
    scene = scene.convert("RGB")
    if format:
        code = Image.open(io.BytesIO(render_barcode_png(format, text))).convert("RGB")
        scale = min(width, height) * 0.5 / max(code.size)
        code = code.resize((int(code.width * scale), int(code.height * scale)), Image.Resampling.BILINEAR)
        code = code.rotate(7, expand=True, fillcolor="white")
        scene.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    scene = Image.blend(scene.filter(ImageFilter.GaussianBlur(1.5)), Image.effect_noise(size, 40).convert("RGB"), 0.08)
    output = io.BytesIO()
    scene.save(output, "JPEG", quality=90)
    return output.getvalue()


def _phones() -> None:
    rng = random.Random(1)
    print("Phone-sized photos (synthetic JPEG, 5 runs each)")
    for size in [(1280, 960), (2560, 1920), (4032, 3024)]:
        for format, text in [("QRCode", "TICKET-2026-000123-ABCDEF"), ("PDF417", "TICKET-2026-000123-ABCDEF"),
                             ("EAN13", "4600000123457"), (None, "")]:  # fmt: skip
            data = _phone_photo(size, format, text, rng)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                scanned = scan_photo(data, max_bytes=LIMIT)
                times.append(time.perf_counter() - started)
            texts = {b.text for b in scanned.barcodes}
            read = "read" if text in texts else "WRONG" if texts else "none" if not format else "MISSED"
            label = f"{size[0]}x{size[1]} {format or 'no barcode'}"
            print(f"  {label:<24} {len(data) // 1024:>5} KiB  {read:<6} {_percentiles(times)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"  peak memory of this process (RSS): {peak // 1024} MiB")


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
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(engine)
    await engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for table, columns, rows in (("users", USER_COLUMNS, _users()), ("tickets", TICKET_COLUMNS, _tickets(count))):
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        connection.executemany(statement, (tuple(map(_sqlite_value, row)) for row in rows))
    bands = _hashes(count, query, random.Random(2))
    connection.executemany("INSERT INTO photo_hash_bands (ticket_id, band, value) VALUES (?, ?, ?)", bands)
    # the tickets' own photo_phash, from the bands just stored
    connection.execute(
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
    return _percentiles(samples)


async def _lookups(count: int) -> None:
    query = random.Random(3).getrandbits(64)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photos.db"
        started = time.perf_counter()
        await _load(path, count, query)
        loaded = time.perf_counter() - started
        print(f"Near-duplicate lookup, SQLite, {count:,} stored hashes (loaded in {loaded:.0f} s)")
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


CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "barcodes"  # the corpus the tests read


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    _corpus(args.corpus)
    _phones()
    for count in args.sizes:
        await _lookups(count)


if __name__ == "__main__":
    asyncio.run(main())
