"""Phone photos made from the corpus, each a fixed image: tilted up to 45 degrees, in perspective, upside down, in low
contrast, blurred, recompressed as Telegram does, and a small code in a 12 MP photo."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from services.errors import DomainError
from services.ticket_upload import ScanLimits, scan_upload
from tests import barcode_documents as docs
from tests.factories import require_corpus

LIMITS = ScanLimits(max_bytes=20 * 1024 * 1024)
SCENE = (1600, 1200)  # a phone photo already shrunk by the phone's share sheet
SHARE = 0.25  # the ticket's share of the photo
SAMPLES = {"qr": "qr/qrcode-1_1.webp", "aztec": "aztec/aztec-1_hello.png", "pdf417": "pdf417/pdf417-1_01.png",
           "datamatrix": "datamatrix/datamatrix-1_0123456789.png"}  # fmt: skip
Transform = Callable[[Image.Image], Image.Image]
TRANSFORMS: dict[str, Transform] = {
    "tilted 15": lambda image: docs.rotated(image, 15),
    "tilted 30": lambda image: docs.rotated(image, 30),
    "tilted 45": lambda image: docs.rotated(image, 45),
    "tilted -30": lambda image: docs.rotated(image, -30),
    "perspective": lambda image: docs.perspective(image, 0.08),
    "upside down": lambda image: image.rotate(180),
    "low contrast": docs.low_contrast,
    "blurred": docs.blurred,
}
# zxing-cpp's PDF417 detector wants the rows near horizontal: tilted PDF417 photos are read turned upright
CASES = [(symbology, name) for symbology in SAMPLES for name in TRANSFORMS]


def _sample(symbology: str) -> tuple[Image.Image, str]:
    path = require_corpus() / Path(SAMPLES[symbology])
    return Image.open(path).convert("L"), path.with_suffix(".txt").read_text(encoding="utf-8")


def _texts(data: bytes) -> set[str]:
    return {found.barcode.text for found in scan_upload(data, limits=LIMITS).found}


@pytest.mark.parametrize(("symbology", "transform"), CASES)
def test_phone_photo_is_read_as_file_and_as_telegram_photo(symbology: str, transform: str) -> None:
    code, text = _sample(symbology)
    photo = TRANSFORMS[transform](docs.on_scene(code, SCENE, SHARE))
    assert text in _texts(docs.jpeg(photo, 92)), "as a file"
    assert text in _texts(docs.telegram_photo(photo)), "as a Telegram photo"


@pytest.mark.parametrize("symbology", ["qr", "aztec", "pdf417"])
def test_a_code_filling_5_percent_of_a_12_mp_photo(symbology: str) -> None:
    code, text = _sample(symbology)
    photo = docs.jpeg(docs.on_scene(code, (4000, 3000), 0.05), 92)
    assert text in _texts(photo)
    assert text in _texts(docs.telegram_photo(Image.open(docs.io.BytesIO(photo))))


def _texts_or_none(data: bytes) -> set[str]:
    try:
        return _texts(data)
    except DomainError as error:
        assert error.code == "no-barcode"
        return set()


@pytest.mark.parametrize("degrees", [30, 45])
def test_the_corpus_pdf417_codes_tilted(degrees: int) -> None:
    """Every PDF417 of the corpus with a text, turned by 30 and 45 degrees, as a file and as a Telegram photo:
    measured 36 of 37 read both ways (the miss, pdf417-3_19, is 36 pixels tall); one more miss allowed."""
    folder = require_corpus() / "pdf417"
    samples = [(path, path.with_suffix(".txt").read_text(encoding="utf-8")) for path in sorted(folder.iterdir())
               if path.suffix != ".txt" and path.with_suffix(".txt").exists()]  # fmt: skip
    for form in (lambda image: docs.jpeg(image, 92), docs.telegram_photo):
        tilted = [(form(docs.rotated(Image.open(path).convert("L"), degrees)), text) for path, text in samples]
        read = sum(text in _texts_or_none(data) for data, text in tilted)
        assert read >= len(samples) - 2, f"{read} of {len(samples)}"


def _median(call: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return sorted(times)[runs // 2]


@pytest.mark.serial  # two timings compared
def test_a_miss_costs_at_most_3x_a_hit() -> None:
    """The cascade stops early: a photo of no code gets the fast passes only, not the costly views."""
    code, _ = _sample("qr")
    hit = docs.jpeg(docs.on_scene(code, (800, 600), SHARE))
    miss = docs.jpeg(docs.on_scene(Image.new("L", code.size, 255), (800, 600), SHARE))
    assert _texts(hit)
    with pytest.raises(DomainError):
        _texts(miss)
    ratio = _median(lambda: _refusal(miss)) / _median(lambda: _texts(hit))
    assert ratio <= 3, f"a miss costs {ratio:.1f}x a hit"


def _refusal(data: bytes) -> str:
    try:
        scan_upload(data, limits=LIMITS)
    except DomainError as error:
        return error.code
    return ""
