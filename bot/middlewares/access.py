"""Who may use which handler: banned users nothing, unregistered users only the public ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove, TelegramObject
from aiogram.utils.i18n import gettext as _

from db.models import User
from handlers.shared.menu import contact_keyboard


class AccessMiddleware(BaseMiddleware):
    """Inner middleware: a banned user is refused everything; a handler not flagged `public` needs an account.
    Money that arrived is the exception: a successful payment always reaches its handler, which records the sale
    or refunds it (a ban between pre-checkout and payment must not leave the money taken and unrecorded)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and event.successful_payment:
            return await handler(event, data)
        user: User | None = data.get("user")
        if user is not None and user.is_banned:
            await _refuse(event, _("access-banned"), remove_keyboard=True)
            return None
        if user is None and not get_flag(data, "public"):
            await _refuse(event, _("access-register-first"))
            return None
        return await handler(event, data)


async def _refuse(event: TelegramObject, text: str, *, remove_keyboard: bool = False) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, Message):
        await event.answer(text, reply_markup=ReplyKeyboardRemove() if remove_keyboard else contact_keyboard())
