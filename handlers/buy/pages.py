"""What a Buy was pressed on, drawn again once its ticket is gone: the feed page (with the filters it was drawn
with), the event page, or the ticket's card alone, saying it is sold (or the reader's). For a stale Buy pressed,
and for the outbox's redraw of the buyer's message once the payment is recorded (handlers/payments/delivery.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from db.repositories.events import EventKey
from handlers.buy.callbacks import BuyCD, BuyView
from handlers.events.keyboards import page_keyboard
from handlers.events.views import page_text
from handlers.feed.pages import page_view
from handlers.shared.cards import Audience, CardFacts, ticket_card
from handlers.shared.paging import page_ref
from services import events, groups, orders
from services.feed import Filters
from services.rules import PaymentRules

# The refusals after which the message is drawn as it is now: its ticket is no longer on sale.
GONE_CODES = ("buy-gone", "buy-sold", "buy-bought", "buy-event-passed")


def view_of(data: BuyCD, filters: Filters) -> dict[str, Any]:
    """What the button's message shows, as the order keeps it: the view, its page, a feed page's filters."""
    view: dict[str, Any] = {"on": data.on.value, "at": data.at, "key": data.key}
    if data.on is BuyView.FEED:
        view["filters"] = filters.to_data()
    return view


def carries(message: Message, data: str | None) -> bool:
    """Whether the message shows a button with this data: a forged press on another message redraws nothing."""
    markup = message.reply_markup
    rows = markup.inline_keyboard if markup else []
    return data is not None and any(button.callback_data == data for row in rows for button in row)


def pressed_on(message: Message, data: str | None, view: dict[str, Any]) -> orders.BuyMessage | None:
    """The message Buy was pressed on, for the order to keep; None when it does not carry the button."""
    return orders.BuyMessage(message.chat.id, message.message_id, view) if carries(message, data) else None


async def drawn(
    repo: Repo,
    now: datetime,
    viewer: User,
    ticket_id: int,
    view: dict[str, Any],
    payment: PaymentRules | None,
    language: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message `view` describes as it is at `now`, for `viewer`, in `language` (the caller's locale)."""
    on, at, key = view.get("on"), int(view.get("at") or 0), int(view.get("key") or 0)
    if on == BuyView.FEED:
        filters = Filters.from_data(view.get("filters"))
        return await page_view(repo, now, filters, viewer, page_ref(at, key), payment, language)
    ticket = await orders.ticket_by_id(repo, ticket_id)
    if ticket is None:
        return _("buy-gone"), None
    if on == BuyView.EVENT and ticket.event_key is not None:
        after = EventKey(at, key) if key else None
        page = await events.event_page(repo, ticket.event_key, now, after)
        return page_text(ticket, page, language), page_keyboard(ticket, page, viewer, after)
    unit = await groups.unit_of(repo, ticket.id)
    card = ticket_card(CardFacts.of_ticket(ticket, unit.tickets if unit else ()), Audience.FEED, language)
    state = _("buy-card-yours") if ticket.buyer_id == viewer.id else _("share-not-on-sale")
    return f"{card}\n\n{state}", None
