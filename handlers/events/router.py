"""Event pages: a card's "all tickets for this event" button opens the event's tickets on sale by price with their
seats, keyset-paged, each with Buy (handled in handlers/buy); "Join the waiting list" puts the viewer in the event's
queue for the fair waiting list (services.waitlist)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from db.repositories.events import EventKey
from handlers.events.callbacks import EventAction, EventCD
from handlers.events.keyboards import page_keyboard
from handlers.events.views import page_text
from handlers.shared.editing import edit_in_place
from services import events, waitlist
from services.clock import Clock


async def show_page(callback: CallbackQuery, callback_data: EventCD, repo: Repo, clock: Clock, user: User) -> None:
    event = await events.event_of(repo, callback_data.id)
    assert event.event_key is not None
    after = EventKey(callback_data.price, callback_data.after) if callback_data.after else None
    page = await events.event_page(repo, event.event_key, clock.now(), after)
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    text, markup = page_text(event, page, get_i18n().current_locale), page_keyboard(event, page, user, after)
    if callback_data.action == EventAction.OPEN:
        await callback.message.answer(text, reply_markup=markup)
    else:
        await edit_in_place(callback.message, text, markup)


async def join(callback: CallbackQuery, callback_data: EventCD, repo: Repo, clock: Clock, user: User) -> None:
    event = await events.event_of(repo, callback_data.id)
    assert event.event_key is not None
    await waitlist.join(repo, clock.now(), user, event.event_key)
    await callback.answer(_("events-joined"), show_alert=True)


def create_router() -> Router:
    """A fresh router with the event pages' handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(show_page, EventCD.filter(F.action.in_({EventAction.OPEN, EventAction.PAGE})))
    router.callback_query.register(join, EventCD.filter(F.action == EventAction.JOIN))
    return router
