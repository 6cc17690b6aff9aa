"""The feed's keyboards: Buy under each card, Previous / Next, the filters; the event type picker."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.models import EventType, User
from db.repositories.events import MoreTickets
from handlers.alerts.callbacks import AlertAction, AlertCD
from handlers.buy.callbacks import BuyAction, BuyCD, BuyView
from handlers.events.callbacks import EventAction, EventCD
from handlers.feed.callbacks import FeedAction, FeedCD
from handlers.shared.display import event_type_label
from handlers.shared.paging import encode
from handlers.talk.keyboards import ask_button
from handlers.trust.keyboards import share_button
from services.feed import Direction, FeedPage, Filters


def button(key: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_(key), callback_data=data.pack())


def page_keyboard(page: FeedPage, filters: Filters, viewer: User, more: dict[int, MoreTickets]) -> InlineKeyboardMarkup:
    at, key = encode(page.first)
    buy = [
        InlineKeyboardButton(
            text=_("feed-buy").format(number=number),
            callback_data=BuyCD(action=BuyAction.BUY, id=card.ticket.id, at=at, key=key, on=BuyView.FEED).pack(),
        )
        for number, card in enumerate(page.cards, start=1)
        if card.ticket.seller_id != viewer.id
    ]
    ask = [
        ask_button(_("talk-ask").format(number=number), card.ticket.id)
        for number, card in enumerate(page.cards, start=1)
        if card.ticket.seller_id != viewer.id
    ]
    share = [
        share_button(_("share-button").format(number=number), card.ticket.id)
        for number, card in enumerate(page.cards, start=1)
    ]
    event_pages = [
        InlineKeyboardButton(
            text=_("feed-event").format(number=number),
            callback_data=EventCD(action=EventAction.OPEN, id=card.ticket.id).pack(),
        )
        for number, card in enumerate(page.cards, start=1)
        if card.ticket.id in more
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
        [
            button("feed-filter-type", FeedCD(action=FeedAction.TYPES)),
            button("feed-filter-city", FeedCD(action=FeedAction.CITY)),
            button("feed-filter-search", FeedCD(action=FeedAction.SEARCH)),
        ],
    ]
    bottom = [button("alerts-tell-me", AlertCD(action=AlertAction.FEED))]
    if filters.active:
        bottom.append(button("feed-filter-clear", FeedCD(action=FeedAction.CLEAR)))
    rows.append(bottom)
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


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
