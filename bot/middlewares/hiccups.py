"""A Bot API call made while an update is handled survives Telegram failing for a moment, and a query's answer
never aborts a handler.

Inside an update (the outbox's and the notifier's calls retry on their own terms, outside any update) a call that
got a 5xx, a network error or a 429 asking for at most LONGEST_WAIT seconds is made again, up to TRIES times in
all: the reply the person waits for goes out, and the wizard does not move on without its prompt. A callback
answer still refused ("query is too old" after its deadline, a lasting 429) is logged at debug and the handler
goes on to redraw the page or send the invoice. A pre-checkout answer refused with "query is too old" was answered
already (by the process before a restart: its update comes again) or Telegram stopped waiting, and nobody was
charged (the payer may pay the invoice again): logged at info."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import AnswerCallbackQuery, AnswerPreCheckoutQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.middlewares.db import in_update

log = logging.getLogger(__name__)

TRIES = 3
PAUSE = 0.5  # seconds between tries after a 5xx or a network error
LONGEST_WAIT = 3  # a 429 asking for more would hold the person's next update (and outlast a pre-checkout's 10 s)


class HiccupsRetried(BaseRequestMiddleware):
    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        answers_a_button = isinstance(method, AnswerCallbackQuery)  # flags: `method` keeps its generic type
        answers_a_checkout = isinstance(method, AnswerPreCheckoutQuery)
        if not in_update() and not (answers_a_button or answers_a_checkout):
            return await make_request(bot, method)
        for attempt in range(1, TRIES + 1):
            try:
                return await make_request(bot, method)
            except TelegramAPIError as error:
                pause = _pause(error) if attempt < TRIES else None
                if pause is None:
                    if not (answers_a_button or answers_a_checkout):
                        raise
                    log.log(logging.INFO if answers_a_checkout else logging.DEBUG, "answer not taken: %s", error)
                    break
                await asyncio.sleep(pause)
        # The session's chain returns the method's result (True for an answer), whatever the annotation says.
        answered: Any = True
        return cast(Response[TelegramType], answered)


def _pause(error: TelegramAPIError) -> float | None:
    """How long to wait before making the call again, or None when trying again can't help."""
    if isinstance(error, TelegramRetryAfter):
        return error.retry_after if error.retry_after <= LONGEST_WAIT else None
    if isinstance(error, TelegramServerError | TelegramNetworkError):
        return PAUSE
    return None
