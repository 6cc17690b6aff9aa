"""The last router: whatever nothing else understood."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from handlers.shared.menu import contact_keyboard, main_menu


async def unknown_message(message: Message, user: User | None) -> None:
    if user is None:
        await message.answer(_("access-register-first"), reply_markup=contact_keyboard())
    else:
        await message.answer(_("fallback-unknown"), reply_markup=main_menu())


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(_("fallback-stale-button"), show_alert=True)


def create_fallback_router() -> Router:
    """A fresh last router: whatever nothing else understood (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(unknown_message, flags={"public": True})
    router.callback_query.register(stale_button, flags={"public": True})
    return router
