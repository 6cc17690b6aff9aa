"""The bot's own identity and chat lookups: getMe, logOut, close, getChat, sendChatAction."""

from __future__ import annotations

from typing import Any

from ..errors import bad
from ..params import Params
from ..state import BotState
from . import MethodFamily

CHAT_ACTIONS = frozenset(
    {
        "cancel", "typing", "record_video", "upload_video", "record_audio", "record_voice", "upload_audio",
        "upload_voice", "upload_photo", "upload_document", "choose_sticker", "pick_up_location", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip


class BotMethods(MethodFamily):
    """Who the bot is and what a chat looks like to it."""

    async def m_getMe(self, bot: BotState, p: Params) -> Any:
        return bot.user_json(full=True)

    async def m_logOut(self, bot: BotState, p: Params) -> Any:
        return True

    async def m_close(self, bot: BotState, p: Params) -> Any:
        return True

    async def m_getChat(self, bot: BotState, p: Params) -> Any:
        chat = self.emu._resolve_chat(bot, p.get("chat_id"), write=False)
        info = dict(chat.json)
        info.update(
            accent_color_id=chat.id % 7,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
            },
        )
        return info

    async def m_sendChatAction(self, bot: BotState, p: Params) -> Any:
        action = (p.str("action") or "").lower()
        if action not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        self.emu.chat_actions.append((bot.id, chat.id, action))
        return True
