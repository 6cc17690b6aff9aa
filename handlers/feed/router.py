"""The feed: tickets on sale, five a page in one message edited in place (Previous / Next), with filters by event
type, city and words of the event name shown in the header and clearable. Each card has a Buy button (handled in
handlers/buy), except the viewer's own tickets."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import texts_for
from db.models import User
from db.repo import Repo
from handlers.feed.callbacks import FeedAction, FeedCD, FeedInput
from handlers.feed.keyboards import any_city_keyboard, type_keyboard
from handlers.feed.pages import answer_and_redraw, current_filters, save_filters, show_first_page
from handlers.shared.city_picker import city_keyboard, picked_city
from handlers.shared.paging import page_ref
from services import feed
from services.clock import Clock
from services.feed import Filters, PageRef
from services.rules import PaymentRules


async def open_feed(
    message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User, payment_rules: PaymentRules
) -> None:
    if await state.get_state() is not None:  # a search or city prompt left open; nothing written when there is none
        await state.set_state(None)
    await show_first_page(message, repo, clock, state, user, payment_rules)


async def turn_page(
    callback: CallbackQuery, callback_data: FeedCD, repo: Repo, clock: Clock, state: FSMContext, user: User,
    payment_rules: PaymentRules,
) -> None:  # fmt: skip
    ref = page_ref(callback_data.at, callback_data.key, callback_data.dir)
    await answer_and_redraw(callback, repo, clock, state, user, ref, payment_rules)


async def clear_filters(
    callback: CallbackQuery, repo: Repo, clock: Clock, state: FSMContext, user: User, payment_rules: PaymentRules
) -> None:
    await save_filters(state, Filters())
    await answer_and_redraw(callback, repo, clock, state, user, PageRef(), payment_rules, _("feed-filters-cleared"))


# --- event type --------------------------------------------------------------------------------------------
async def pick_type(callback: CallbackQuery) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(_("feed-pick-type"), reply_markup=type_keyboard())


async def set_type(
    callback: CallbackQuery, callback_data: FeedCD, repo: Repo, clock: Clock, state: FSMContext, user: User,
    payment_rules: PaymentRules,
) -> None:  # fmt: skip
    filters = await current_filters(state)
    await save_filters(state, Filters(callback_data.kind, filters.city_id, filters.text))
    await answer_and_redraw(callback, repo, clock, state, user, PageRef(), payment_rules)


# --- city --------------------------------------------------------------------------------------------------
async def ask_city(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(FeedInput.city)
    await callback.answer()
    if isinstance(callback.message, Message):
        markup = any_city_keyboard((await current_filters(state)).city_id is not None)
        await callback.message.answer(_("feed-ask-city"), reply_markup=markup)


async def city_typed(message: Message) -> None:
    language = get_i18n().current_locale
    markup = city_keyboard(message.text or "", language, lambda city: FeedCD(action=FeedAction.SET_CITY, city=city.id))
    if markup is None:
        await message.answer(_("feed-city-not-found"))
        return
    await message.answer(_("feed-pick-city"), reply_markup=markup)


async def set_city(
    callback: CallbackQuery, callback_data: FeedCD, repo: Repo, clock: Clock, state: FSMContext, user: User,
    payment_rules: PaymentRules,
) -> None:  # fmt: skip
    city_id = callback_data.city if picked_city(callback_data.city) is not None else None
    filters = await current_filters(state)
    await save_filters(state, Filters(filters.event_type, city_id, filters.text))
    await state.set_state(None)
    await answer_and_redraw(callback, repo, clock, state, user, PageRef(), payment_rules)


# --- search ------------------------------------------------------------------------------------------------
async def ask_search(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(FeedInput.search)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("feed-ask-search"))


async def search_typed(
    message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User, payment_rules: PaymentRules
) -> None:
    text = feed.clean_search(message.text or "")
    if text is None:
        await message.answer(_("feed-search-empty"))
        return
    filters = await current_filters(state)
    await save_filters(state, Filters(filters.event_type, filters.city_id, text))
    await state.set_state(None)
    await show_first_page(message, repo, clock, state, user, payment_rules)


async def not_text(message: Message) -> None:
    await message.answer(_("feed-send-text"))


def create_router() -> Router:
    """A fresh router with the feed's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(open_feed, F.text.in_(texts_for("menu-feed")))
    router.message.register(open_feed, Command("feed"))
    router.callback_query.register(turn_page, FeedCD.filter(F.action == FeedAction.PAGE))
    router.callback_query.register(clear_filters, FeedCD.filter(F.action == FeedAction.CLEAR))
    router.callback_query.register(pick_type, FeedCD.filter(F.action == FeedAction.TYPES))
    router.callback_query.register(set_type, FeedCD.filter(F.action == FeedAction.TYPE))
    router.callback_query.register(ask_city, FeedCD.filter(F.action == FeedAction.CITY))
    router.message.register(city_typed, FeedInput.city, F.text, ~F.text.startswith("/"))
    router.callback_query.register(set_city, FeedCD.filter(F.action == FeedAction.SET_CITY))
    router.callback_query.register(ask_search, FeedCD.filter(F.action == FeedAction.SEARCH))
    router.message.register(search_typed, FeedInput.search, F.text, ~F.text.startswith("/"))
    router.message.register(not_text, FeedInput.search, ~F.text)
    router.message.register(not_text, FeedInput.city, ~F.text)
    return router
