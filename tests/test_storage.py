"""Photos at rest and the keys that seal them: a local directory and a real S3 protocol server (moto's, over HTTP on
127.0.0.1), the key file generated once."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pytest
from cryptography.fernet import Fernet, InvalidToken
from moto.server import ThreadedMotoServer

from bot.app import create_photo_storage
from services.crypto import KEY_FILE, Secrets, load_secrets
from services.storage import LocalPhotoStorage, PhotoNotFound, PhotoStorage, S3PhotoStorage
from tests.factories import make_settings

PHOTO = b"\xff\xd8\xff\xe0" + b"JPEG-BYTES-OF-A-TICKET" * 100
SECRETS = Secrets(Fernet.generate_key(), b"f" * 32)


def test_keys_are_generated_once_private_and_kept(tmp_path: Path) -> None:
    first = load_secrets(None, None, tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    again = load_secrets(None, None, tmp_path)
    assert (again.encryption_key, again.fingerprint_key) == (first.encryption_key, first.fingerprint_key)
    given = Fernet.generate_key().decode()
    mixed = load_secrets(given, None, tmp_path)  # a key from settings wins; the other still comes from the file
    assert (mixed.encryption_key, mixed.fingerprint_key) == (given.encode(), first.fingerprint_key)
    assert "key" not in repr(first).lower().replace("secrets", "")


def test_sealed_data_opens_only_with_its_key() -> None:
    token = SECRETS.seal_text("TICKET-42")
    assert b"TICKET-42" not in token and SECRETS.open_text(token) == "TICKET-42"
    with pytest.raises(InvalidToken):
        Secrets(Fernet.generate_key(), b"f" * 32).open(token)
    with pytest.raises(InvalidToken):
        SECRETS.open(token[:-2] + b"AA")


@pytest.mark.parametrize("key", [b"not a key", b"c2hvcnQ=", b"QUJD" * 10])  # not base64; 5 bytes; 30 bytes
def test_a_malformed_encryption_key_is_refused_at_start_up(tmp_path: Path, key: bytes) -> None:
    # Checked when the keys are loaded, before Fernet itself is (services.crypto imports it on first use).
    with pytest.raises(ValueError, match="ENCRYPTION_KEY"):
        Secrets(key, b"f" * 32)
    with pytest.raises(ValueError, match="ENCRYPTION_KEY"):
        load_secrets(key.decode(), "f" * 32, tmp_path)
    generated = load_secrets(None, None, tmp_path)
    assert Fernet(generated.encryption_key).decrypt(generated.seal(b"x")) == b"x"  # a real Fernet key


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PhotoStorage]:
    if request.param == "local":
        yield LocalPhotoStorage(tmp_path / "photos", SECRETS)
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    settings = make_settings(
        s3_bucket=f"photos-{tmp_path.name[-8:].lower().replace('_', '-')}", s3_endpoint_url=endpoint,
        s3_access_key="test", s3_secret_key="test", data_dir=tmp_path,
    )  # fmt: skip
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=settings.s3_bucket)  # fmt: skip
    built = create_photo_storage(settings, SECRETS)
    assert isinstance(built, S3PhotoStorage)
    yield built


async def test_a_photo_round_trips_sealed_under_a_random_key(storage: PhotoStorage, tmp_path: Path) -> None:
    key = await storage.put(PHOTO)
    other = await storage.put(PHOTO)
    assert key != other and len(key) == 32
    assert await storage.get(key) == PHOTO
    if isinstance(storage, LocalPhotoStorage):
        at_rest = (tmp_path / "photos" / key[:2] / key).read_bytes()
        assert b"JPEG-BYTES" not in at_rest and SECRETS.open(at_rest) == PHOTO
        assert stat.S_IMODE((tmp_path / "photos" / key[:2] / key).stat().st_mode) == 0o600
    await storage.delete(key)
    with pytest.raises(PhotoNotFound):
        await storage.get(key)
    assert await storage.get(other) == PHOTO


@pytest.mark.parametrize("key", ["../../etc/passwd", "", "A" * 32, "0" * 31, "0" * 33])
async def test_a_key_that_is_not_ours_is_not_found(storage: PhotoStorage, key: str) -> None:
    with pytest.raises(PhotoNotFound):
        await storage.get(key)
