"""A callback answer never aborts a handler: Telegram refusing one ("query is too old" after its deadline, a 429, a
5xx) is logged at debug and the handler goes on to redraw the page or send the invoice."""

from __future__ import annotations

import logging
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)


class CallbackAnswersNeverFail(BaseRequestMiddleware):
    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        answers_a_button = isinstance(method, AnswerCallbackQuery)  # a flag: `method` keeps its generic type
        if not answers_a_button:
            return await make_request(bot, method)
        try:
            return await make_request(bot, method)
        except TelegramAPIError as error:
            log.debug("callback answer not taken: %s", error.message)
            # The session's chain returns the method's result (True for an answer), whatever the annotation says.
            answered: Any = True
            return cast(Response[TelegramType], answered)
