"""Share a card (its link, for sending to a friend) and rate a deal after its escrow released: the stars, then
optional words, stored once."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from db.models import User
from db.repo import Repo
from handlers.trust.callbacks import RATING_KEY, RatingInput, TrustAction, TrustCD
from handlers.trust.keyboards import skip_keyboard, stars_keyboard
from handlers.trust.shared_card import send_shared_card
from services import ratings, sharing
from services.clock import Clock
from services.rules import PaymentRules


async def share(
    callback: CallbackQuery, callback_data: TrustCD, bot: Bot, repo: Repo, clock: Clock, user: User,
    payment_rules: PaymentRules,
) -> None:  # fmt: skip
    code = await sharing.share_code(repo, callback_data.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await send_shared_card(callback.message, bot, repo, clock, user, code, payment_rules)


async def ask_stars(callback: CallbackQuery, callback_data: TrustCD, repo: Repo, user: User) -> None:
    await ratings.can_rate(repo, user, callback_data.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("rate-ask-stars"), reply_markup=stars_keyboard(callback_data.id))


async def ask_words(callback: CallbackQuery, callback_data: TrustCD, repo: Repo, state: FSMContext, user: User) -> None:
    if callback_data.stars not in ratings.STARS:
        await callback.answer(_("rate-stars"), show_alert=True)
        return
    await ratings.can_rate(repo, user, callback_data.id)
    await state.set_state(RatingInput.words)
    await state.update_data({RATING_KEY: [callback_data.id, callback_data.stars]})
    await callback.answer()
    if isinstance(callback.message, Message):
        markup = skip_keyboard(callback_data.id, callback_data.stars)
        await callback.message.answer(_("rate-ask-words"), reply_markup=markup)


async def _rate(repo: Repo, clock: Clock, user: User, order_id: int, stars: int, words: str) -> str:
    rating = await ratings.rate(repo, clock.now(), user, order_id, stars, words)
    return _("rate-thanks").format(stars="⭐" * rating.stars, words=hd.quote(rating.words or ""))


async def words(message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User) -> None:
    order_id, stars = (await state.get_data()).get(RATING_KEY, [0, 0])
    await state.set_state(None)
    await message.answer(await _rate(repo, clock, user, int(order_id), int(stars), message.text or ""))


async def skip(callback: CallbackQuery, callback_data: TrustCD, repo: Repo, clock: Clock, state: FSMContext,
               user: User) -> None:  # fmt: skip
    if await state.get_state() == RatingInput.words:
        await state.set_state(None)
    text = await _rate(repo, clock, user, callback_data.id, callback_data.stars, "")
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(text)


def create_router() -> Router:
    """A fresh router with sharing's and rating's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(share, TrustCD.filter(F.action == TrustAction.SHARE))
    router.callback_query.register(ask_stars, TrustCD.filter(F.action == TrustAction.RATE))
    router.callback_query.register(ask_words, TrustCD.filter(F.action == TrustAction.STARS))
    router.callback_query.register(skip, TrustCD.filter(F.action == TrustAction.SKIP))
    router.message.register(words, RatingInput.words, F.text, ~F.text.startswith("/"))
    return router
