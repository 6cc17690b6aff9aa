"""Images within a memory budget: decompression-bomb PNGs (150 KB declaring 6300x6300), decoded reduced strip by
strip, one and twelve at once, measured as the peak RSS (VmHWM) of a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import barcode_documents as docs

pytestmark = pytest.mark.serial  # peak memory measured: no other test's process beside it on the machine
ROOT = Path(__file__).resolve().parents[1]
SIDE = 6300  # 39.7 MP: under the 40 MP cap, so only the decoded-size budget stands in the way
PEAK_LIMIT = 500 * 1024 * 1024
KEPT_LIMIT = 100 * 1024 * 1024  # what may stay allocated after the burst, above the idle size

CHILD = """
import asyncio, ctypes, json, os, sys
sys.path.insert(0, sys.argv[1])
from services.errors import DomainError
from services.ticket_upload import ScanLimits, scan_upload_async

def status(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field + ":"))

def rss():
    return status("VmRSS")

async def scan(data):
    try:
        await scan_upload_async(data, limits=ScanLimits(max_bytes=10 * 1024 * 1024))
    except DomainError as error:
        return error.code
    return "read"

async def main(paths):
    uploads = [open(path, "rb").read() for path in paths]
    idle = rss()
    codes = await asyncio.gather(*(scan(data) for data in uploads))
    # VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across exec, so it would count the forking pytest
    peak = status("VmHWM")
    # What glibc still holds freed in the scanning threads' arenas goes back first: "after" is what stays allocated
    # (25-120 MB of free arena memory otherwise, from run to run).
    ctypes.CDLL(None).malloc_trim(0)
    print(json.dumps({"codes": codes, "idle": idle, "peak": peak, "after": rss()}))

asyncio.run(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    paths = {"grey": folder / "grey.png", "rgb": folder / "rgb.png"}
    paths["grey"].write_bytes(docs.png_bomb(SIDE, 0))  # 40 MB decoded whole
    paths["rgb"].write_bytes(docs.png_bomb(SIDE, 2))  # 159 MB decoded whole (Pillow keeps RGB in 4 bytes a pixel)
    return paths


def _run(paths: list[Path]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), *map(str, paths)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_bombs_are_small_files(bombs: dict[str, Path]) -> None:
    assert all(path.stat().st_size < 200 * 1024 for path in bombs.values())


def test_one_rgb_bomb_is_decoded_reduced(bombs: dict[str, Path]) -> None:
    """Strip by strip, a quarter of its side: the whole scan (decode, views, JPEG) stays far below the 159 MB that
    decoding it whole would take."""
    measured = _run([bombs["rgb"]])
    assert measured["codes"] == ["no-barcode"]
    assert measured["peak"] - measured["idle"] < 80 * 1024 * 1024  # type: ignore[operator]


def test_twelve_bombs_at_once_stay_under_500_mb(bombs: dict[str, Path]) -> None:
    measured = _run([bombs["grey"]] * 6 + [bombs["rgb"]] * 6)
    assert measured["codes"] == ["no-barcode"] * 12
    assert measured["peak"] < PEAK_LIMIT, f"peak RSS {measured['peak'] // 2**20} MB"  # type: ignore[operator]
    kept = measured["after"] - measured["idle"]  # type: ignore[operator]
    assert kept < KEPT_LIMIT, f"{kept // 2**20} MB kept after the burst"
