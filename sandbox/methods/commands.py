"""The bot's profile: command menus per scope and language, the menu button, name and descriptions."""

from __future__ import annotations

import copy
import json
from typing import Any

from .. import validation
from ..errors import bad
from ..params import Params
from ..state import BotState
from . import MethodFamily


class CommandMethods(MethodFamily):
    """setMyCommands and its kin, stored the way Telegram resolves them for a user."""

    async def m_setMyCommands(self, bot: BotState, p: Params) -> Any:
        commands = p.json("commands", "can't parse commands JSON object")
        if commands is None:
            commands = []
        if not isinstance(commands, list):
            raise bad("expected an Array of BotCommand")
        if len(commands) > 100:
            raise bad("too many commands specified")
        clean = []
        for command in commands:
            if not isinstance(command, dict) or "command" not in command or "description" not in command:
                raise bad('can\'t parse BotCommand: Field "command" must be of type String')
            name = str(command["command"])
            description = str(command["description"])
            if not (1 <= len(name) <= 32) or not all(c.islower() or c.isdigit() or c == "_" for c in name):
                raise bad("BOT_COMMAND_INVALID")
            if not name.isascii():
                raise bad("BOT_COMMAND_INVALID")
            if not (1 <= len(description) <= 256):
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = (self._scope(bot, p), validation.language(p))
        if clean:
            bot.commands[key] = clean
        else:
            bot.commands.pop(key, None)
        return True

    async def m_getMyCommands(self, bot: BotState, p: Params) -> Any:
        return copy.deepcopy(bot.commands.get((self._scope(bot, p), validation.language(p)), []))

    async def m_deleteMyCommands(self, bot: BotState, p: Params) -> Any:
        bot.commands.pop((self._scope(bot, p), validation.language(p)), None)
        return True

    def _scope(self, bot: BotState, p: Params) -> str:
        scope = p.json("scope", "can't parse BotCommandScope JSON object")
        if scope is None:
            return scope_key({"type": "default"})
        if not isinstance(scope, dict):
            raise bad("can't parse BotCommandScope: BotCommandScope must be an Object")
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return scope_key({"type": kind})
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad("can't parse BotCommandScope: Unsupported type specified")
        if scope.get("chat_id") in (None, ""):
            raise bad("can't parse BotCommandScope: Empty chat_id specified")
        chat = self.emu._resolve_chat(bot, scope["chat_id"], write=False)
        if kind == "chat_member":
            return scope_key({"type": kind, "chat_id": chat.id, "user_id": int(scope.get("user_id") or 0)})
        return scope_key({"type": kind, "chat_id": chat.id})

    def _language(self, p: Params) -> str:
        lang = p.str("language_code") or ""
        if lang and not (len(lang) == 2 and lang.isalpha() and lang.islower()):
            raise bad("invalid language code specified")
        return lang

    async def m_setChatMenuButton(self, bot: BotState, p: Params) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self.emu._resolve_chat(bot, p.get("chat_id"), write=False).id
        button = p.json("menu_button", "can't parse menu button JSON object")
        if button is None:
            button = {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise bad("can't parse menu button: MenuButton must be an Object")
        if button["type"] == "web_app" and (not button.get("text") or not isinstance(button.get("web_app"), dict)):
            raise bad('can\'t parse menu button: Field "text" must be of type String')
        if button["type"] == "default":
            bot.menu_buttons.pop(chat_id, None)
        else:
            bot.menu_buttons[chat_id] = dict(button)
        return True

    async def m_getChatMenuButton(self, bot: BotState, p: Params) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self.emu._resolve_chat(bot, p.get("chat_id"), write=False).id
        button = bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(None) or {"type": "commands"}
        return copy.deepcopy(button)

    async def _set_text(self, bot: BotState, p: Params, kind: str, limit: int) -> Any:
        value = p.str(kind) or ""
        if len(value) > limit:
            raise bad(f"{kind.replace('_', ' ')} is too long")
        key = (kind, validation.language(p))
        if value:
            bot.texts[key] = value
        else:
            bot.texts.pop(key, None)
        return True

    def _get_text(self, bot: BotState, p: Params, kind: str) -> str:
        lang = validation.language(p)
        value = bot.texts.get((kind, lang))
        if value is None:
            value = bot.texts.get((kind, ""), bot.first_name if kind == "name" else "")
        return value

    async def m_setMyName(self, bot: BotState, p: Params) -> Any:
        return await self._set_text(bot, p, "name", 64)

    async def m_getMyName(self, bot: BotState, p: Params) -> Any:
        return {"name": self._get_text(bot, p, "name")}

    async def m_setMyDescription(self, bot: BotState, p: Params) -> Any:
        return await self._set_text(bot, p, "description", 512)

    async def m_getMyDescription(self, bot: BotState, p: Params) -> Any:
        return {"description": self._get_text(bot, p, "description")}

    async def m_setMyShortDescription(self, bot: BotState, p: Params) -> Any:
        return await self._set_text(bot, p, "short_description", 120)

    async def m_getMyShortDescription(self, bot: BotState, p: Params) -> Any:
        return {"short_description": self._get_text(bot, p, "short_description")}


def scope_key(scope: dict[str, Any]) -> str:
    return json.dumps(scope, sort_keys=True)
