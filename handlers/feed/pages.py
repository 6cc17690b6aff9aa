"""A feed page for its viewer: the filters kept in the FSM data, the page loaded and drawn; Buy redraws with it."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n

from db.models import User
from db.repo import Repo
from handlers.feed.keyboards import page_keyboard
from handlers.feed.views import page_text
from handlers.shared.editing import edit_in_place
from services import kept_pages
from services.clock import Clock
from services.feed import FeedPage, Filters, PageRef
from services.rules import PaymentRules

FILTERS_KEY = "feed_filters"  # in the FSM data: the filters survive the pages and the pickers


async def current_filters(state: FSMContext) -> Filters:
    return Filters.from_data((await state.get_data()).get(FILTERS_KEY))


async def save_filters(state: FSMContext, filters: Filters) -> None:
    await state.update_data({FILTERS_KEY: filters.to_data()})


async def page_view(
    repo: Repo, now: datetime, filters: Filters, user: User, ref: PageRef, payment: PaymentRules | None, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The page `ref` names as it is at `now`, for `user` in `language` (an update's or the outbox's)."""
    page = await kept_pages.cached_page(repo, filters, ref, now)
    own = frozenset(card.ticket.id for card in page.cards if card.ticket.seller_id == user.id)
    draw = _drawn if page.kept else _draw
    return draw(page, filters, own, language, get_i18n().current_locale, payment)


def _draw(
    page: FeedPage, filters: Filters, own: frozenset[int], language: str, locale: str, payment: PaymentRules | None
) -> tuple[str, InlineKeyboardMarkup]:
    return page_text(page, filters, own, language, payment), page_keyboard(page, filters, own)


# A page kept in memory is one object (hashed by identity) for all its viewers: drawn once for each language and
# locale (gettext reads the locale), and for each set of its tickets a viewer sells (usually none). A page read for
# one viewer only is drawn and let go.
_drawn = lru_cache(maxsize=1024)(_draw)


async def viewer_page(
    repo: Repo, clock: Clock, state: FSMContext, user: User, ref: PageRef, payment: PaymentRules
) -> tuple[str, InlineKeyboardMarkup]:
    """`ref`'s page with the viewer's filters, now."""
    filters = await current_filters(state)
    return await page_view(repo, clock.now(), filters, user, ref, payment, get_i18n().current_locale)


async def show_first_page(
    message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User, payment: PaymentRules
) -> None:
    text, markup = await viewer_page(repo, clock, state, user, PageRef(), payment)
    await message.answer(text, reply_markup=markup)


async def answer_and_redraw(
    callback: CallbackQuery,
    repo: Repo,
    clock: Clock,
    state: FSMContext,
    user: User,
    ref: PageRef,
    payment: PaymentRules,
    notice: str | None = None,
) -> None:
    """Answer the press (with `notice`), then draw `ref`'s page over its message (a no-op when nothing changed).
    The page is read before the answer: the update's one transaction ends at the answer's commit, and the redraw
    needs no second one."""
    page = await viewer_page(repo, clock, state, user, ref, payment) if isinstance(callback.message, Message) else None
    await callback.answer(notice)
    if page is not None:
        await edit_in_place(callback.message, *page)
