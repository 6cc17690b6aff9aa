"""Files as Telegram keeps them: photos re-encoded to JPEG in several sizes, documents byte for byte."""

from __future__ import annotations

import base64
import io
import mimetypes
import secrets
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["MAX_DOWNLOAD_SIZE", "FileRecord", "FileStore", "MediaError", "encode_photo"]

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
PHOTO_MAX_SIDE = 2560
PHOTO_QUALITY = 87
THUMBNAIL_SIDES = (90, 320, 800, 1280)


class MediaError(ValueError):
    """A Telegram error description (without the "Bad Request: " prefix)."""


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    bot_id: int
    kind: str  # photo | document | thumbnail
    data: bytes
    file_path: str
    width: int | None = None
    height: int | None = None
    file_name: str | None = None
    mime_type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def file_size(self) -> int:
        return len(self.data)

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.file_size,
        }

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        doc["file_size"] = self.file_size
        return doc


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def encode_photo(data: bytes) -> list[tuple[int, int, bytes]]:
    """Telegram's photo processing: (width, height, jpeg bytes) for each size, smallest first.

    The original is decoded, turned upright (EXIF orientation), stripped of metadata and re-encoded as JPEG with
    its longest side at most 2560; thumbnails of 90, 320, 800 and 1280 are added when the photo is bigger.
    """
    if not data:
        raise MediaError("file must be non-empty")
    if len(data) > MAX_PHOTO_UPLOAD:
        raise MediaError("PHOTO_SAVE_FILE_INVALID")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise MediaError("IMAGE_PROCESS_FAILED") from e
    width, height = image.size
    if width <= 0 or height <= 0 or width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise MediaError("PHOTO_INVALID_DIMENSIONS")
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode == "L":
        image = image.convert("RGB")
    longest = max(width, height)
    full = image
    if longest > PHOTO_MAX_SIDE:
        full = image.copy()
        full.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    sizes: list[tuple[int, int, bytes]] = []
    for side in THUMBNAIL_SIDES:
        if max(full.size) > side:
            thumb = full.copy()
            thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
            sizes.append((thumb.width, thumb.height, _jpeg(thumb, 80)))
    sizes.append((full.width, full.height, _jpeg(full, PHOTO_QUALITY)))
    return sizes


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class FileStore:
    """All files the emulator knows, by file_id (bot-specific, like Telegram's) and by file_path."""

    def __init__(self) -> None:
        self.by_id: dict[str, FileRecord] = {}
        self.by_path: dict[tuple[int, str], FileRecord] = {}
        self._counter = 0

    def _ids(self, kind: str) -> tuple[str, str]:
        prefix = {"photo": b"\x02\x00\x00", "thumbnail": b"\x02\x00\x00", "document": b"\x05\x00\x00"}[kind]
        file_id = ("AgAC" if kind != "document" else "BQAC") + _b64(prefix + secrets.token_bytes(48))
        unique = ("AQAD" if kind != "document" else "AgAD") + _b64(secrets.token_bytes(8))
        return file_id, unique

    def _add(self, record: FileRecord) -> FileRecord:
        self.by_id[record.file_id] = record
        self.by_path[(record.bot_id, record.file_path)] = record
        return record

    def _path(self, folder: str, ext: str) -> str:
        self._counter += 1
        return f"{folder}/file_{self._counter}{ext}"

    def add_photo(self, bot_id: int, data: bytes) -> list[FileRecord]:
        """Process an uploaded photo; one record per size, smallest first."""
        records = []
        for width, height, jpeg in encode_photo(data):
            file_id, unique = self._ids("photo")
            records.append(
                self._add(
                    FileRecord(
                        file_id=file_id,
                        file_unique_id=unique,
                        bot_id=bot_id,
                        kind="photo",
                        data=jpeg,
                        file_path=self._path("photos", ".jpg"),
                        width=width,
                        height=height,
                        mime_type="image/jpeg",
                    )
                )
            )
        return records

    def add_document(self, bot_id: int, data: bytes, file_name: str | None, mime_type: str | None) -> FileRecord:
        if not data:
            raise MediaError("file must be non-empty")
        if mime_type is None:
            guessed = mimetypes.guess_type(file_name or "")[0]
            mime_type = guessed or "application/octet-stream"
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1][:10]
        file_id, unique = self._ids("document")
        return self._add(
            FileRecord(
                file_id=file_id,
                file_unique_id=unique,
                bot_id=bot_id,
                kind="document",
                data=data,
                file_path=self._path("documents", ext),
                file_name=file_name,
                mime_type=mime_type,
            )
        )

    def get(self, file_id: str) -> FileRecord | None:
        return self.by_id.get(file_id)

    def photo_group(self, record: FileRecord) -> list[FileRecord]:
        group = record.extra.get("group")
        return list(group) if group else [record]

    def link_group(self, records: list[FileRecord]) -> None:
        for record in records:
            record.extra["group"] = records
