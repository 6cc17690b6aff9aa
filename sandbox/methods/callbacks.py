"""answerCallbackQuery: the answer a person sees after pressing an inline button."""

from __future__ import annotations

from typing import Any

from ..errors import bad
from ..messages import CallbackAnswer
from ..params import Params
from ..state import BotState
from . import MethodFamily


class CallbackMethods(MethodFamily):
    """Answers to callback queries, within their deadline and once."""

    async def m_answerCallbackQuery(self, bot: BotState, p: Params) -> Any:
        text = p.str("text")
        if text and len(text) > 200:
            raise bad("MESSAGE_TOO_LONG")
        query = self.emu._take_query(bot, "callback", p.str("callback_query_id"))
        answer = CallbackAnswer(
            query_id=query.id,
            text=text or None,
            show_alert=p.bool("show_alert"),
            url=p.str("url"),
            cache_time=p.int("cache_time", 0) or 0,
        )
        if not query.future.done():
            query.future.set_result(answer)
        return True
