"""Redrawing a message in place: pages, menus and cards that buttons change."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InaccessibleMessage, InlineKeyboardMarkup, Message

from bot.notifier import NOT_MODIFIED


async def edit_in_place(
    message: Message | InaccessibleMessage | None, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the text and buttons of a message the bot sent; nothing when it is gone or already shows them
    (a double click, a refresh with nothing new)."""
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if NOT_MODIFIED not in error.message:
            raise
