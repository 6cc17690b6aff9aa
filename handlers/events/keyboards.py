"""The event page's keyboard: Buy under each ticket, the next page, "Tell me when" and the waiting list."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Ticket, User
from db.repositories.events import EventKey
from handlers.alerts.callbacks import AlertAction, AlertCD
from handlers.buy.callbacks import BuyAction, BuyCD, BuyView
from handlers.events.callbacks import EventAction, EventCD
from services.events import EventPage


def join_button(ticket_id: int) -> InlineKeyboardButton:
    data = EventCD(action=EventAction.JOIN, id=ticket_id)
    return InlineKeyboardButton(text=_("events-join"), callback_data=data.pack())


def page_keyboard(event: Ticket, page: EventPage, viewer: User, after: EventKey | None) -> InlineKeyboardMarkup:
    """`after`: where the page starts (None: the first page), for Buy to redraw this page."""
    start = (after.price, after.ticket_id) if after else (0, 0)
    buy = [
        InlineKeyboardButton(
            text=_("feed-buy").format(number=number),
            callback_data=BuyCD(action=BuyAction.BUY, id=ticket.id, at=start[0], key=start[1], on=BuyView.EVENT).pack(),
        )
        for number, ticket in enumerate(page.tickets, start=1)
        if ticket.seller_id != viewer.id
    ]
    rows = [buy[i : i + 5] for i in range(0, len(buy), 5)]
    if page.next_key is not None:
        data = EventCD(action=EventAction.PAGE, id=event.id, price=page.next_key.price, after=page.next_key.ticket_id)
        rows.append([InlineKeyboardButton(text=_("feed-next"), callback_data=data.pack())])
    tell = AlertCD(action=AlertAction.EVENT, id=event.id)
    rows.append([InlineKeyboardButton(text=_("alerts-tell-me"), callback_data=tell.pack()), join_button(event.id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
