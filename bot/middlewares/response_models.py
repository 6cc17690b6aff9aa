"""Bot API middleware: each method's parsed response model (`Response[Message]`...) built once per process.

aiogram parses every answer with `Response[method.__returning__]`, which pydantic would build again whenever its
weak-value cache has let the class go; `bot.lazy_types.response_model` holds each one for the life of the process,
the ones `prebuild()` made at start-up included, so every later call is a cache hit."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.lazy_types import response_model


class KeepResponseModels(BaseRequestMiddleware):
    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        response_model(method.__returning__)
        return await make_request(bot, method)
