"""Photos, documents and albums the bot sends or edits, and getFile for what people sent."""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any

from .. import validation
from ..errors import bad
from ..media import MAX_DOWNLOAD_SIZE, FileRecord, MediaError
from ..params import Params, UploadedFile
from ..state import BotState
from . import MethodFamily
from .messages import apply_edit, edit_target


class MediaMethods(MethodFamily):
    """Files in and out; edits go through the message rules."""

    async def m_sendPhoto(self, bot: BotState, p: Params) -> Any:
        content: dict[str, Any] = {}
        validation.caption(p, content)
        markup = validation.markup(p)
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        reply_to = validation.reply_to(chat, p)
        photo = await self._input_photo(bot, p.file("photo"))
        content = {"photo": photo, **content}
        if p.bool("has_spoiler"):
            content["has_media_spoiler"] = True
        stored = self.emu._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return copy.deepcopy(stored.data)

    async def m_sendDocument(self, bot: BotState, p: Params) -> Any:
        content: dict[str, Any] = {}
        validation.caption(p, content)
        markup = validation.markup(p)
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        reply_to = validation.reply_to(chat, p)
        document = self._input_document(bot, p.file("document"))
        content = {"document": document, **content}
        stored = self.emu._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return copy.deepcopy(stored.data)

    async def m_sendMediaGroup(self, bot: BotState, p: Params) -> Any:
        media = p.json("media", "can't parse media JSON object")
        if not isinstance(media, list) or not media:
            raise bad("there are no messages to send")
        if len(media) > 10:
            raise bad("too many messages to send as an album")
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        reply_to = validation.reply_to(chat, p)
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        if "document" in kinds and kinds != {"document"}:
            raise bad("can't use the media of the specified type in the album")
        contents = []
        for item in media:
            contents.append(await self._input_media(bot, p, item))
        group_id = str(secrets.randbelow(10**18))
        results = []
        for content in contents:
            content["media_group_id"] = group_id
            stored = self.emu._store(
                bot, chat, content, outgoing=True, protect=p.bool("protect_content"), reply_to=reply_to
            )
            results.append(copy.deepcopy(stored.data))
        return results

    async def _input_media(self, bot: BotState, p: Params, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
            kind = item.get("type") if isinstance(item, dict) else None
            raise bad(f"can't parse InputMedia: unsupported media type {kind!r} in the emulator")
        media_ref = item.get("media")
        value: UploadedFile | str | None
        if isinstance(media_ref, str) and media_ref.startswith("attach://"):
            value = p.files.get(media_ref[len("attach://") :])
            if value is None:
                raise bad(f'can\'t parse InputMedia: file "{media_ref[len("attach://") :]}" not found')
        else:
            value = media_ref
        content: dict[str, Any] = {}
        if item["type"] == "photo":
            content["photo"] = await self._input_photo(bot, value)
            if item.get("has_spoiler"):
                content["has_media_spoiler"] = True
        else:
            content["document"] = self._input_document(bot, value)
        if item.get("caption"):
            caption, entities = validation.format_text(
                str(item["caption"]),
                item.get("parse_mode") or p.str("parse_mode"),
                item.get("caption_entities"),
                validation.MAX_CAPTION,
                False,
                "message caption is too long",
            )
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
        return content

    async def m_editMessageMedia(self, bot: BotState, p: Params) -> Any:
        item = p.json("media", "can't parse InputMedia JSON object")
        markup = validation.markup(p, inline_only=True)
        chat, stored = edit_target(self.emu, bot, p)
        if not any(k in stored.data for k in ("photo", "document", "video", "audio", "animation")):
            raise bad("there is no media in the message to edit")
        content = await self._input_media(bot, p, item)
        changes: dict[str, Any] = {
            "photo": None,
            "document": None,
            "has_media_spoiler": None,
            "caption": None,
            "caption_entities": None,
        }
        changes.update(content)
        return apply_edit(self.emu, bot, chat, stored, changes, markup)

    async def _input_photo(self, bot: BotState, value: UploadedFile | str | None) -> list[dict[str, Any]]:
        if value is None:
            raise bad("there is no photo in the request")
        if isinstance(value, UploadedFile):
            try:
                records = await asyncio.to_thread(self.emu.files.add_photo, bot.id, value.data)
            except MediaError as e:
                raise bad(str(e)) from None
            self.emu.files.link_group(records)
            return [r.photo_size() for r in records]
        record = self._known_file(bot, value)
        if record.kind not in ("photo", "thumbnail"):
            raise bad("type of file mismatch")
        return [r.photo_size() for r in self.emu.files.photo_group(record)]

    def _input_document(self, bot: BotState, value: UploadedFile | str | None) -> dict[str, Any]:
        if value is None:
            raise bad("there is no document in the request")
        if isinstance(value, UploadedFile):
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = None
            try:
                record = self.emu.files.add_document(bot.id, value.data, value.filename, mime)
            except MediaError as e:
                raise bad(str(e)) from None
            return record.document()
        record = self._known_file(bot, value)
        if record.kind != "document":
            raise bad("type of file mismatch")
        return record.document()

    def _known_file(self, bot: BotState, value: str) -> FileRecord:
        if value.startswith(("http://", "https://")):
            raise bad("failed to get HTTP URL content")
        record = self.emu.files.get(value.strip())
        if record is None or record.bot_id != bot.id:
            raise bad("wrong file identifier/HTTP URL specified")
        return record

    async def m_getFile(self, bot: BotState, p: Params) -> Any:
        file_id = (p.str("file_id") or "").strip()
        if not file_id:
            raise bad('parameter "file_id" is required')
        record = self.emu.files.get(file_id)
        if record is None:
            raise bad("invalid file_id")
        if record.bot_id != bot.id:
            raise bad("wrong file_id or the file is temporarily unavailable")
        if record.file_size > MAX_DOWNLOAD_SIZE:
            raise bad("file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "file_path": record.file_path,
        }
