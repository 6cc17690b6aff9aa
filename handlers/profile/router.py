"""Profile: name, masked phone, counts; the name is editable."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as hd
from babel.dates import format_date

from bot.i18n import texts_for
from db.models import User
from db.repo import Repo
from handlers.profile.callbacks import ProfileAction, ProfileCD, ProfileEdit
from handlers.shared.menu import NOT_NAVIGATION, main_menu
from services import accounts
from services.errors import DomainError


def _profile_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("profile-edit-name"), callback_data=ProfileCD(action=ProfileAction.RENAME))
    return builder.as_markup()


async def _render(repo: Repo, user: User) -> str:
    card = await accounts.profile(repo, user)
    return _("profile-card").format(
        name=hd.quote(card.full_name),
        phone=card.masked_phone,
        listed=card.listed,
        sold=card.sold,
        bought=card.bought,
        since=format_date(card.member_since, format="long", locale=get_i18n().current_locale),
    )


async def show_profile(message: Message, state: FSMContext, repo: Repo, user: User) -> None:
    if await state.get_state() == ProfileEdit.name.state:  # the name step is left for the profile itself
        await state.clear()
    await message.answer(await _render(repo, user), reply_markup=_profile_keyboard())


async def ask_name(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(ProfileEdit.name)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("profile-ask-name"))


async def save_name(message: Message, state: FSMContext, repo: Repo, user: User) -> None:
    try:
        await accounts.rename(repo, user, message.text or "")
    except DomainError as error:
        await message.answer(_(error.code))
        return
    await state.clear()
    await message.answer(_("profile-name-saved"), reply_markup=main_menu())
    await message.answer(await _render(repo, user), reply_markup=_profile_keyboard())


async def name_not_text(message: Message) -> None:
    await message.answer(_("profile-name-send-text"))


def create_router() -> Router:
    """A fresh router with this feature's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_profile, F.text.in_(texts_for("menu-profile")))
    router.message.register(show_profile, Command("profile"))
    router.callback_query.register(ask_name, ProfileCD.filter(F.action == ProfileAction.RENAME))
    router.message.register(save_name, ProfileEdit.name, F.text, NOT_NAVIGATION)
    router.message.register(name_not_text, ProfileEdit.name, ~F.text)
    return router
