"""A Bot API request as the emulator reads it: typed parameters, uploaded files, and the record kept of each call."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Any

from .errors import bad

__all__ = ["ApiCall", "Params", "UploadedFile", "decode_value"]

# How form fields are typed (Telegram knows each method's parameter types; this is the same knowledge, by name).
JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "prices", "suggested_tip_amounts", "scope", "commands",
        "allowed_updates", "menu_button", "media", "reply_parameters", "link_preview_options", "results", "options",
        "message_ids", "explanation_entities", "rights", "button", "question_entities", "reaction",
        "shipping_options", "text_entities",
    }
)  # fmt: skip
INT_FIELDS = frozenset(
    {
        "message_id", "offset", "limit", "timeout", "user_id", "max_tip_amount", "photo_size", "photo_width",
        "photo_height", "cache_time", "message_thread_id", "max_connections", "subscription_period",
        "reply_to_message_id", "duration", "width", "height", "until_date",
    }
)  # fmt: skip
BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "ok", "need_name", "need_phone_number",
        "need_email", "need_shipping_address", "send_phone_number_to_provider", "send_email_to_provider",
        "is_flexible", "drop_pending_updates", "allow_sending_without_reply", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "allow_paid_broadcast",
        "disable_web_page_preview", "for_channels", "is_big",
    }
)  # fmt: skip


@dataclass
class UploadedFile:
    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"<UploadedFile {self.field_name} {self.filename!r} {len(self.data)} bytes>"


@dataclass
class ApiCall:
    """One request the bot made. ``params`` are decoded (JSON fields parsed, ints and bools typed)."""

    bot_id: int
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    ok: bool | None = None
    result: Any = None
    error_code: int | None = None
    description: str | None = None

    def file(self, param: str) -> UploadedFile | None:
        """The uploaded file for a parameter (direct multipart or attach://name)."""
        value = self.params.get(param)
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        return None

    def __repr__(self) -> str:
        status = "ok" if self.ok else f"{self.error_code} {self.description}"
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup",)}
        return f"<ApiCall {self.method} {shown} -> {status}>"


class Params:
    """Typed access to a request's parameters. Its readers are named after the types they return (`str`, `int`,
    `bool`), so below `def str` an annotation names the type `builtins.str`."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, UploadedFile):
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def required(self, name: builtins.str) -> builtins.str:
        value = self.str(name)
        if not value:
            raise bad(f'parameter "{name}" is required')
        return value

    def int(self, name: builtins.str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            return default

    def bool(self, name: builtins.str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).strip().lower() in ("true", "yes", "1")

    def json(self, name: builtins.str, error: builtins.str | None = None) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list, int, float, bool)):
            return value
        try:
            return json.loads(str(value))
        except ValueError:
            raise bad(error or f"can't parse {name} JSON object") from None

    def file(self, name: builtins.str) -> UploadedFile | builtins.str | None:
        value = self.values.get(name)
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        if value is None or value == "":
            return None
        return str(value)


def decode_value(name: str, value: Any) -> Any:
    if isinstance(value, UploadedFile) or not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in INT_FIELDS or name in ("chat_id", "from_chat_id"):
        try:
            return int(value.strip())
        except ValueError:
            return value
    if name in BOOL_FIELDS:
        return value.strip().lower() in ("true", "yes", "1")
    return value
