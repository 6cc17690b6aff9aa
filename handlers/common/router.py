"""/help and /cancel, which work in any state, before any feature sees the message."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import texts_for
from db.models import User
from handlers.shared.menu import contact_keyboard, main_menu

PUBLIC = {"public": True}


async def show_help(message: Message, user: User | None) -> None:
    await message.answer(_("help-text"), reply_markup=main_menu() if user else contact_keyboard())


async def cancel(message: Message, state: FSMContext, user: User | None) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    text = _("cancel-done") if had_state else _("cancel-nothing")
    await message.answer(text, reply_markup=main_menu() if user else contact_keyboard())


def create_router() -> Router:
    """A fresh router with this feature's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_help, F.text.in_(texts_for("menu-help")), flags=PUBLIC)
    router.message.register(show_help, Command("help"), flags=PUBLIC)
    router.message.register(cancel, Command("cancel"), flags=PUBLIC)
    return router
