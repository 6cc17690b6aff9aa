"""The feed's keyboards: Buy under each card, Previous / Next, the filters; the event type picker."""

from __future__ import annotations

from functools import lru_cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.models import EventType
from handlers.alerts.callbacks import AlertAction, AlertCD
from handlers.buy.callbacks import BuyAction, BuyCD, BuyView
from handlers.events.callbacks import EventAction, EventCD
from handlers.feed.callbacks import FeedAction, FeedCD
from handlers.shared.buttons import data_button, numbered
from handlers.shared.display import event_type_label
from handlers.shared.paging import encode
from handlers.talk.keyboards import ask_button
from handlers.trust.keyboards import share_button
from services.feed import Direction, FeedPage, Filters


def button(key: str, data: CallbackData | str) -> InlineKeyboardButton:
    return data_button(_(key), data if isinstance(data, str) else data.pack())


# The buttons whose data never changes, packed once.
TYPES = FeedCD(action=FeedAction.TYPES).pack()
CITY = FeedCD(action=FeedAction.CITY).pack()
SEARCH = FeedCD(action=FeedAction.SEARCH).pack()
CLEAR = FeedCD(action=FeedAction.CLEAR).pack()
ALERT = AlertCD(action=AlertAction.FEED).pack()


def page_keyboard(page: FeedPage, filters: Filters, own: frozenset[int]) -> InlineKeyboardMarkup:
    """`own`: the ids of the page's tickets the viewer sells (no Buy or Ask under them)."""
    at, key = encode(page.first)
    numbered_cards = list(enumerate(page.cards, start=1))
    others = [(number, card.ticket.id) for number, card in numbered_cards if card.ticket.id not in own]
    buy = [buy_button(numbered("feed-buy", number), ticket_id, at, key) for number, ticket_id in others]
    ask = [ask_button(numbered("talk-ask", number), ticket_id) for number, ticket_id in others]
    share = [share_button(numbered("share-button", number), card.ticket.id) for number, card in numbered_cards]
    event_pages = [
        event_button(numbered("feed-event", number), card.ticket.id)
        for number, card in numbered_cards
        if card.ticket.id in page.more
    ]
    navigation = []
    if page.has_newer:
        first_at, first = encode(page.first)
        navigation.append(
            button("feed-previous", FeedCD(action=FeedAction.PAGE, at=first_at, key=first, dir=Direction.NEWER))
        )
    if page.has_older:
        last_at, last = encode(page.last)
        navigation.append(
            button("feed-next", FeedCD(action=FeedAction.PAGE, at=last_at, key=last, dir=Direction.OLDER))
        )
    rows = [
        buy,
        ask,
        share,
        event_pages,
        navigation,
        [button("feed-filter-type", TYPES), button("feed-filter-city", CITY), button("feed-filter-search", SEARCH)],
    ]
    bottom = [button("alerts-tell-me", ALERT)]
    if filters.active:
        bottom.append(button("feed-filter-clear", CLEAR))
    rows.append(bottom)
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


@lru_cache(maxsize=2048)
def buy_button(text: str, ticket_id: int, at: int, key: int) -> InlineKeyboardButton:
    """Buy under a card of the page whose first card is (`at`, `key`): the page Buy redraws."""
    data = BuyCD(action=BuyAction.BUY, id=ticket_id, at=at, key=key, on=BuyView.FEED)
    return InlineKeyboardButton(text=text, callback_data=data.pack())


@lru_cache(maxsize=1024)
def event_button(text: str, ticket_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=EventCD(action=EventAction.OPEN, id=ticket_id).pack())


def type_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for kind in EventType:
        keyboard.button(text=event_type_label(kind), callback_data=FeedCD(action=FeedAction.TYPE, kind=kind))
    keyboard.button(text=_("feed-type-any"), callback_data=FeedCD(action=FeedAction.TYPE))
    keyboard.adjust(2)
    return keyboard.as_markup()


def any_city_keyboard(has_city: bool) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    if has_city:
        keyboard.button(text=_("feed-city-any"), callback_data=FeedCD(action=FeedAction.SET_CITY))
    return keyboard.as_markup()
