"""The second decoding engine: pyzbar (libzbar) for linear codes, where the optional extra and libzbar0 are installed.

Without them `read_linear` finds nothing and nobody is told: zxing-cpp alone reads as before."""

from __future__ import annotations

from PIL import Image

try:
    from pyzbar import pyzbar
except (ImportError, OSError):  # OSError: the Python package without the system's libzbar0
    pyzbar = None

AVAILABLE = pyzbar is not None
# zbar's names of the linear symbologies it verifies (check digits or a strict structure), and zxing-cpp's names for
# them, so a code reads the same whichever engine read it (fingerprints are of format + text).
_FORMATS = {"EAN13": "EAN13", "EAN8": "EAN8", "UPCA": "UPCA", "UPCE": "UPCE", "CODE128": "Code128",
            "CODE39": "Code39", "CODE93": "Code93", "I25": "ITF", "CODABAR": "Codabar"}  # fmt: skip
LINEAR = frozenset(_FORMATS.values())
_SYMBOLS = [pyzbar.ZBarSymbol[name] for name in _FORMATS] if pyzbar else []


def read_linear(gray: Image.Image) -> list[tuple[str, str]]:
    """(zxing-cpp format name, text) of every linear barcode libzbar reads in a grayscale image; [] without it."""
    if pyzbar is None:
        return []
    return [(_FORMATS[result.type], result.data.decode("latin-1")) for result in pyzbar.decode(gray, symbols=_SYMBOLS)]
