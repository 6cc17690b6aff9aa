"""/start and registration by the user's own phone contact."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import language_for
from db.models import User
from db.repo import Repo
from handlers.shared.menu import contact_keyboard, main_menu
from handlers.trust.shared_card import send_shared_card
from services import accounts, sharing
from services.clock import Clock
from services.errors import DomainError
from services.rules import PaymentRules

PUBLIC = {"public": True}
SHARED_KEY = "shared_code"  # in the FSM data while registering: the share link followed, opened once registered


class Registration(StatesGroup):
    contact = State()


async def start(
    message: Message, command: CommandObject, bot: Bot, state: FSMContext, repo: Repo, clock: Clock, user: User | None,
    payment_rules: PaymentRules,
) -> None:  # fmt: skip
    await state.clear()
    shared = sharing.code_from_start(command.args)
    if user is not None:
        if shared is not None:
            await send_shared_card(message, bot, repo, clock, user, shared, payment_rules)
            return
        await message.answer(_("reg-welcome-back").format(name=hd.quote(user.first_name)), reply_markup=main_menu())
        return
    await state.set_state(Registration.contact)
    if shared is not None:
        await state.update_data({SHARED_KEY: shared})
    await message.answer(_("reg-greeting"), reply_markup=contact_keyboard())


async def contact_shared(
    message: Message, bot: Bot, state: FSMContext, repo: Repo, clock: Clock, user: User | None,
    payment_rules: PaymentRules,
) -> None:  # fmt: skip
    if user is not None:
        await message.answer(_("reg-already-registered"), reply_markup=main_menu())
        return
    assert message.contact is not None and message.from_user is not None
    share = accounts.ContactShare(
        sender_id=message.from_user.id,
        contact_user_id=message.contact.user_id,
        phone=message.contact.phone_number,
        first_name=message.from_user.first_name,
        last_name=message.from_user.last_name,
        username=message.from_user.username,
        language=language_for(message.from_user.language_code),
    )
    try:
        account = await accounts.register(repo, share, clock.now())
    except DomainError as error:
        await message.answer(_(error.code), reply_markup=contact_keyboard())
        return
    shared = (await state.get_data()).get(SHARED_KEY)
    await state.clear()
    await message.answer(_("reg-done").format(name=hd.quote(account.first_name)), reply_markup=main_menu())
    if shared is not None:
        await send_shared_card(message, bot, repo, clock, account, shared, payment_rules)


async def contact_expected(message: Message, state: FSMContext, user: User | None) -> None:
    if user is not None:  # a step left over (registered meanwhile, from another device)
        await state.clear()
        await message.answer(_("fallback-unknown"), reply_markup=main_menu())
        return
    await message.answer(_("reg-need-contact"), reply_markup=contact_keyboard())


def create_router() -> Router:
    """A fresh router with this feature's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(start, CommandStart(), flags=PUBLIC)
    router.message.register(contact_shared, F.contact, flags=PUBLIC)
    router.message.register(contact_expected, Registration.contact, flags=PUBLIC)
    return router
