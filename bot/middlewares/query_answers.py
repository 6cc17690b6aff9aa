"""A query's answer never aborts a handler. A callback answer Telegram refuses ("query is too old" after its
deadline, a 429, a 5xx) is logged at debug and the handler goes on to redraw the page or send the invoice. A
pre-checkout answer is tried again within Telegram's 10 s while it fails for a moment (a 5xx, a network error, a
short 429); "query is too old" means it was answered already (by the process before a restart: its update comes
again) or Telegram stopped waiting, and nobody was charged: the payer may pay the invoice again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import AnswerCallbackQuery, AnswerPreCheckoutQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

CHECKOUT_TRIES = 3
CHECKOUT_PAUSE = 0.5  # seconds between tries after a 5xx or a network error
CHECKOUT_LONGEST_WAIT = 3  # a 429 asking for more than this would outlast Telegram's 10 s


class QueryAnswersNeverFail(BaseRequestMiddleware):
    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        answers_a_button = isinstance(method, AnswerCallbackQuery)  # flags: `method` keeps its generic type
        answers_a_checkout = isinstance(method, AnswerPreCheckoutQuery)
        if not (answers_a_button or answers_a_checkout):
            return await make_request(bot, method)
        for attempt in range(1, CHECKOUT_TRIES + 1):
            try:
                return await make_request(bot, method)
            except TelegramAPIError as error:
                pause = _pause(error) if answers_a_checkout and attempt < CHECKOUT_TRIES else None
                if pause is None:
                    log.log(logging.INFO if answers_a_checkout else logging.DEBUG, "answer not taken: %s", error)
                    break
                await asyncio.sleep(pause)
        # The session's chain returns the method's result (True for an answer), whatever the annotation says.
        answered: Any = True
        return cast(Response[TelegramType], answered)


def _pause(error: TelegramAPIError) -> float | None:
    """How long to wait before answering a pre-checkout again, or None when trying again can't help."""
    if isinstance(error, TelegramRetryAfter):
        return error.retry_after if error.retry_after <= CHECKOUT_LONGEST_WAIT else None
    if isinstance(error, TelegramServerError | TelegramNetworkError):
        return CHECKOUT_PAUSE
    return None
