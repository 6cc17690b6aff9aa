"""The last router: whatever nothing else understood."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from handlers.menu import contact_keyboard, main_menu

router = Router(name=__name__)


@router.message(flags={"public": True})
async def unknown_message(message: Message, user: User | None) -> None:
    if user is None:
        await message.answer(_("access-register-first"), reply_markup=contact_keyboard())
    else:
        await message.answer(_("fallback-unknown"), reply_markup=main_menu())


@router.callback_query(flags={"public": True})
async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(_("fallback-stale-button"), show_alert=True)
