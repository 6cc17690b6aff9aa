"""Text messages: send, edit, delete, copy and forward."""

from __future__ import annotations

import copy
import time
from typing import Any

from .. import validation
from ..errors import bad
from ..params import Params
from ..state import BotState, ChatState, SandboxState, StoredMessage
from . import MethodFamily

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)


class MessageMethods(MethodFamily):
    """Messages the bot writes and changes."""

    async def m_sendMessage(self, bot: BotState, p: Params) -> Any:
        text, entities = validation.formatted(
            p, "text", "entities", limit=validation.MAX_TEXT, required=True, too_long="message is too long"
        )
        markup = validation.markup(p)
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        reply_to = validation.reply_to(chat, p)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        options = p.json("link_preview_options")
        if isinstance(options, dict) and options:
            content["link_preview_options"] = options
        elif p.bool("disable_web_page_preview"):
            content["link_preview_options"] = {"is_disabled": True}
        stored = self.emu._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return copy.deepcopy(stored.data)

    async def m_editMessageText(self, bot: BotState, p: Params) -> Any:
        text, entities = validation.formatted(
            p, "text", "entities", limit=validation.MAX_TEXT, required=True, too_long="message is too long"
        )
        markup = validation.markup(p, inline_only=True)
        chat, stored = edit_target(self.emu, bot, p)
        if "text" not in stored.data:
            raise bad("there is no text in the message to edit")
        return apply_edit(self.emu, bot, chat, stored, {"text": text, "entities": entities or None}, markup)

    async def m_editMessageCaption(self, bot: BotState, p: Params) -> Any:
        content: dict[str, Any] = {}
        validation.caption(p, content)
        markup = validation.markup(p, inline_only=True)
        chat, stored = edit_target(self.emu, bot, p)
        if not any(k in stored.data for k in ("photo", "document", "video", "audio", "animation", "voice")):
            raise bad("there is no caption in the message to edit")
        changes = {"caption": content.get("caption"), "caption_entities": content.get("caption_entities")}
        return apply_edit(self.emu, bot, chat, stored, changes, markup)

    async def m_editMessageReplyMarkup(self, bot: BotState, p: Params) -> Any:
        markup = validation.markup(p, inline_only=True)
        chat, stored = edit_target(self.emu, bot, p)
        return apply_edit(self.emu, bot, chat, stored, {}, markup)

    async def m_deleteMessage(self, bot: BotState, p: Params) -> Any:
        chat = self.emu._resolve_chat(bot, p.get("chat_id"), write=False)
        message_id = p.int("message_id")
        if not message_id:
            raise bad("message identifier is not specified")
        stored = chat.live(message_id)
        if stored is None:
            raise bad("message to delete not found")
        stored.deleted = True
        if stored.outgoing:
            self.emu._notify_person(bot, chat.id, "delete", stored)
        return True

    async def m_deleteMessages(self, bot: BotState, p: Params) -> Any:
        chat = self.emu._resolve_chat(bot, p.get("chat_id"), write=False)
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not (1 <= len(ids) <= 100):
            raise bad("too many message identifiers specified" if isinstance(ids, list) else "message_ids is empty")
        for message_id in ids:
            stored = chat.live(int(message_id))
            if stored is not None:
                stored.deleted = True
                if stored.outgoing:
                    self.emu._notify_person(bot, chat.id, "delete", stored)
        return True

    def _copyable(self, bot: BotState, p: Params, what: str) -> tuple[ChatState, StoredMessage]:
        source_chat = self.emu._resolve_chat(bot, p.get("from_chat_id"), write=False)
        message_id = p.int("message_id")
        if not message_id:
            raise bad("message identifier is not specified")
        source = source_chat.live(message_id)
        if source is None:
            raise bad(f"message to {what} not found")
        service = ("successful_payment", "refunded_payment", "invoice")
        if any(k in source.data for k in service) or source.data.get("has_protected_content"):
            raise bad(f"message can't be {'copied' if what == 'copy' else 'forwarded'}")
        return source_chat, source

    _CONTENT_KEYS = (
        "text", "entities", "photo", "document", "caption", "caption_entities", "contact", "location", "venue",
        "sticker", "video", "audio", "voice", "animation", "has_media_spoiler", "link_preview_options",
    )  # fmt: skip

    async def m_copyMessage(self, bot: BotState, p: Params) -> Any:
        _, source = self._copyable(bot, p, "copy")
        markup = validation.markup(p)
        caption_override: dict[str, Any] = {}
        if "caption" in p:
            validation.caption(p, caption_override)
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        reply_to = validation.reply_to(chat, p)
        content = {k: copy.deepcopy(source.data[k]) for k in self._CONTENT_KEYS if k in source.data}
        if "caption" in p and "text" not in content:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(caption_override)
        stored = self.emu._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return {"message_id": stored.message_id}

    async def m_forwardMessage(self, bot: BotState, p: Params) -> Any:
        _, source = self._copyable(bot, p, "forward")
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        content = {k: copy.deepcopy(source.data[k]) for k in self._CONTENT_KEYS if k in source.data}
        content["forward_origin"] = {
            "type": "user",
            "sender_user": copy.deepcopy(source.data["from"]),
            "date": source.data["date"],
        }
        stored = self.emu._store(bot, chat, content, outgoing=True, protect=p.bool("protect_content"))
        return copy.deepcopy(stored.data)


def edit_target(emu: SandboxState, bot: BotState, p: Params) -> tuple[ChatState, StoredMessage]:
    if p.get("chat_id") in (None, "") and not p.int("message_id"):
        if p.str("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        raise bad("message identifier is not specified")
    chat = emu._resolve_chat(bot, p.get("chat_id"))
    message_id = p.int("message_id")
    if not message_id:
        raise bad("message identifier is not specified")
    stored = chat.live(message_id)
    if stored is None:
        raise bad("message to edit not found")
    if not stored.outgoing:
        raise bad("message can't be edited")
    return chat, stored


def apply_edit(
    emu: SandboxState,
    bot: BotState,
    chat: ChatState,
    stored: StoredMessage,
    changes: dict[str, Any],
    markup: dict[str, Any] | None,
) -> Any:
    data = stored.data
    before = (
        {k: data.get(k) for k in changes},
        data.get("reply_markup"),
    )
    after = (changes, markup)
    if before == after:
        raise bad(NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    if markup:
        data["reply_markup"] = copy.deepcopy(markup)
    else:
        data.pop("reply_markup", None)
    stored.reply_markup = copy.deepcopy(markup)
    data["edit_date"] = int(time.time())
    emu._notify_person(bot, chat.id, "edit", stored)
    return copy.deepcopy(data)
