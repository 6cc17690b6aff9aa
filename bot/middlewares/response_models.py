"""Bot API middleware: each method's parsed response model (`Response[Message]`...) built once per process.

aiogram parses every answer with `Response[method.__returning__]`, and pydantic keeps parametrised models in a
weak-value cache: once the last response object is gone the class is collected and the next call builds it again
(schema generation, 30-80 ms). Holding the classes here makes every later call a cache hit."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class KeepResponseModels(BaseRequestMiddleware):
    def __init__(self) -> None:
        self._models: dict[Any, type[Response[Any]]] = {}

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._models:
            self._models[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)
