"""Saved searches: "Tell me when" on the feed (its filters) or on an event page (that event) asks for a highest
price (or any), then saves the alert (services.alerts: at most 10 a user); /alerts lists them, each deletable."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from db.models import EventType, User
from db.repo import Repo
from handlers.alerts.callbacks import AlertAction, AlertCD, AlertInput
from handlers.alerts.keyboards import any_price_keyboard, list_keyboard
from handlers.alerts.views import describe, list_text, spec_of
from handlers.feed.pages import current_filters
from handlers.shared.editing import edit_in_place
from services import alerts, events
from services.alerts import AlertSpec
from services.amounts import parse_amount
from services.clock import Clock
from services.errors import DomainError
from services.rules import ListingRules

SPEC_KEY = "alert_spec"  # in the FSM data: the alert being saved, while its price is asked


def _to_data(spec: AlertSpec) -> dict[str, Any]:
    kind = spec.event_type.value if spec.event_type else None
    return {"type": kind, "city": spec.city_id, "text": spec.text, "event": spec.event_key}


def _from_data(data: dict[str, Any], max_price: int | None) -> AlertSpec:
    kind = data.get("type")
    return AlertSpec(EventType(kind) if kind else None, data.get("city"), data.get("text"), data.get("event"),
                     max_price)  # fmt: skip


async def _ask_price(callback: CallbackQuery, state: FSMContext, spec: AlertSpec) -> None:
    await state.set_state(AlertInput.price)
    await state.update_data({SPEC_KEY: _to_data(spec)})
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("alerts-ask-price"), reply_markup=any_price_keyboard())


async def tell_from_feed(callback: CallbackQuery, state: FSMContext) -> None:
    filters = await current_filters(state)
    await _ask_price(callback, state, AlertSpec(filters.event_type, filters.city_id, filters.text))


async def tell_from_event(callback: CallbackQuery, callback_data: AlertCD, repo: Repo, state: FSMContext) -> None:
    event = await events.event_of(repo, callback_data.id)
    spec = AlertSpec(event.event_type, event.city_id, event.event_name, event.event_key)
    await _ask_price(callback, state, spec)


async def _save(
    message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User, rules: ListingRules, price: int | None
) -> None:
    data = (await state.get_data()).get(SPEC_KEY)
    if not isinstance(data, dict):  # a stale button: nothing being saved
        await state.set_state(None)
        await message.answer(_("alerts-stale"))
        return
    try:
        alert = await alerts.save(repo, clock.now(), user, _from_data(data, price))
    except DomainError as error:
        await state.set_state(None)
        await message.answer(_(error.code).format(**error.params))
        return
    await state.set_state(None)
    await state.update_data({SPEC_KEY: None})
    text = _("alerts-saved").format(alert=describe(spec_of(alert), rules.currency, get_i18n().current_locale))
    await message.answer(text)


async def price_typed(
    message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User, listing_rules: ListingRules
) -> None:
    try:
        price = parse_amount(message.text or "")
    except DomainError:
        await message.answer(_("alerts-price-unparsed"), reply_markup=any_price_keyboard())
        return
    await _save(message, repo, clock, state, user, listing_rules, price)


async def any_price(
    callback: CallbackQuery, repo: Repo, clock: Clock, state: FSMContext, user: User, listing_rules: ListingRules
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await _save(callback.message, repo, clock, state, user, listing_rules, None)


async def list_alerts(message: Message, repo: Repo, user: User, listing_rules: ListingRules) -> None:
    own = await alerts.of_user(repo, user)
    text = list_text(own, listing_rules.currency, get_i18n().current_locale)
    await message.answer(text, reply_markup=list_keyboard(own))


async def delete(
    callback: CallbackQuery, callback_data: AlertCD, repo: Repo, user: User, listing_rules: ListingRules
) -> None:
    await alerts.delete(repo, user, callback_data.id)
    await callback.answer(_("alerts-deleted"))
    own = await alerts.of_user(repo, user)
    text = list_text(own, listing_rules.currency, get_i18n().current_locale)
    await edit_in_place(callback.message, text, list_keyboard(own))


def create_router() -> Router:
    """A fresh router with the alerts' handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(list_alerts, Command("alerts"))
    router.callback_query.register(tell_from_feed, AlertCD.filter(F.action == AlertAction.FEED))
    router.callback_query.register(tell_from_event, AlertCD.filter(F.action == AlertAction.EVENT))
    router.callback_query.register(any_price, AlertInput.price, AlertCD.filter(F.action == AlertAction.ANY_PRICE))
    router.message.register(price_typed, AlertInput.price, F.text, ~F.text.startswith("/"))
    router.callback_query.register(delete, AlertCD.filter(F.action == AlertAction.DELETE))
    return router
