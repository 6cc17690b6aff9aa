"""The keys that protect a ticket: Fernet for barcodes and photos at rest, an HMAC key for barcode fingerprints.

Keys come from settings (ENCRYPTION_KEY, FINGERPRINT_KEY). When unset, they are generated once into
DATA_DIR/secret_keys.json (mode 0600) and read from there on every later start: losing that file loses every
barcode, so it is written atomically and never overwritten.

cryptography (~6 MiB of resident memory) is imported with the first text sealed or opened, not at start-up: a
bot that only shows the feed never loads it. The encryption key is checked at start-up all the same."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = ["Secrets", "load_secrets"]

KEY_FILE = "secret_keys.json"


@dataclass(frozen=True, repr=False)
class Secrets:
    encryption_key: bytes  # a Fernet key (url-safe base64 of 32 bytes)
    fingerprint_key: bytes

    def __post_init__(self) -> None:
        try:  # what Fernet(key) checks, without importing it yet
            valid = len(base64.urlsafe_b64decode(self.encryption_key)) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise ValueError("ENCRYPTION_KEY must be 32 url-safe base64-encoded bytes (a Fernet key)")
        if len(self.fingerprint_key) < 16:
            raise ValueError("FINGERPRINT_KEY must be at least 16 bytes")

    def __repr__(self) -> str:  # keys never reach a log
        return "Secrets(<hidden>)"

    @cached_property
    def _fernet(self) -> Fernet:
        from cryptography.fernet import Fernet  # on first use (see the module's docstring)

        return Fernet(self.encryption_key)

    def seal(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def open(self, token: bytes) -> bytes:
        """Raises InvalidToken when the data was not sealed with this key or was changed."""
        return self._fernet.decrypt(token)

    def seal_text(self, text: str) -> bytes:
        return self.seal(text.encode("utf-8"))

    def open_text(self, token: bytes) -> str:
        return self.open(token).decode("utf-8")


def _generate() -> dict[str, str]:
    return {
        "encryption_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),  # as Fernet.generate_key()
        "fingerprint_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


def _key_file(data_dir: Path) -> dict[str, str]:
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fp:
            json.dump(_generate(), fp)
            fp.flush()
            os.fsync(fp.fileno())
        try:
            os.link(tmp, path)  # never replaces keys another process wrote first
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    keys: dict[str, str] = json.loads(path.read_text())
    return keys


def load_secrets(encryption_key: str | None, fingerprint_key: str | None, data_dir: Path) -> Secrets:
    """Keys from settings; whichever is missing comes from (or is generated into) DATA_DIR/secret_keys.json."""
    stored = _key_file(data_dir) if not (encryption_key and fingerprint_key) else {}
    return Secrets(
        encryption_key=(encryption_key or stored["encryption_key"]).encode(),
        fingerprint_key=(fingerprint_key or stored["fingerprint_key"]).encode(),
    )
