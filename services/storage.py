"""Where ticket photos live, encrypted: a local directory by default, an S3-compatible bucket when configured.

Every photo is sealed with the Secrets' Fernet key before it leaves the process and stored under a random key
(32 hex characters) that says nothing of the ticket. Blocking I/O runs in worker threads."""

from __future__ import annotations

import asyncio
import os
import re
import secrets as random
from pathlib import Path
from typing import Any, Protocol

from services.crypto import Secrets

__all__ = ["LocalPhotoStorage", "PhotoNotFound", "PhotoStorage", "S3PhotoStorage", "new_photo_key"]

_KEY = re.compile(r"^[0-9a-f]{32}$")


class PhotoNotFound(LookupError):
    pass


def new_photo_key() -> str:
    return random.token_hex(16)


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise PhotoNotFound(key)
    return key


class PhotoStorage(Protocol):
    async def put(self, data: bytes) -> str:
        """Seal and store; returns the new photo's key."""

    async def get(self, key: str) -> bytes:
        """The photo as it was put; PhotoNotFound when there is none."""

    async def delete(self, key: str) -> None: ...


class LocalPhotoStorage:
    """One file a photo, in two-level folders (ab/abcdef...), written to a temporary name and renamed."""

    def __init__(self, root: Path, secrets: Secrets) -> None:
        self.root = root
        self.secrets = secrets

    def _path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key

    def _write(self, key: str, blob: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{key}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fp:
            fp.write(blob)
        os.replace(tmp, path)

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise PhotoNotFound(key) from None

    async def put(self, data: bytes) -> str:
        key = new_photo_key()
        await asyncio.to_thread(self._write, key, self.secrets.seal(data))
        return key

    async def get(self, key: str) -> bytes:
        return self.secrets.open(await asyncio.to_thread(self._read, key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)


class S3PhotoStorage:
    """An S3-compatible bucket (AWS, MinIO, Yandex Object Storage...) through boto3 (`pip install .[s3]`)."""

    def __init__(self, client: Any, bucket: str, secrets: Secrets, prefix: str = "photos/") -> None:
        self.client = client
        self.bucket = bucket
        self.secrets = secrets
        self.prefix = prefix

    @classmethod
    def connect(
        cls, *, bucket: str, secrets: Secrets, endpoint_url: str | None, region: str, access_key: str | None,
        secret_key: str | None,
    ) -> S3PhotoStorage:  # fmt: skip
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )
        return cls(client, bucket, secrets)

    async def put(self, data: bytes) -> str:
        key = new_photo_key()
        blob = self.secrets.seal(data)
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=self.prefix + key, Body=blob)
        return key

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _checked(key))
            except self.client.exceptions.NoSuchKey:
                raise PhotoNotFound(key) from None
            body: bytes = response["Body"].read()
            return body

        return self.secrets.open(await asyncio.to_thread(read))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self.prefix + _checked(key))
