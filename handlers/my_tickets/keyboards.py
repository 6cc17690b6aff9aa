"""My tickets' keyboards: tabs, Withdraw and Barcode under each ticket on sale, pages, the withdraw confirmation."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.my_tickets.callbacks import MyAction, MyCD
from handlers.my_tickets.views import TAB_KEYS
from handlers.purchases.keyboards import list_button
from handlers.shared.paging import encode
from services.listings import SellerPage, Tab


def button(text: str, data: MyCD) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def tabs(current: Tab) -> list[list[InlineKeyboardButton]]:
    buttons = [
        button(("• " if tab == current else "") + _(TAB_KEYS[tab]), MyCD(action=MyAction.TAB, tab=tab)) for tab in Tab
    ]
    return [buttons[:3], buttons[3:]]


def page_keyboard(page: SellerPage, tab: Tab, *, first: bool) -> InlineKeyboardMarkup:
    rows = tabs(tab)
    if tab == Tab.ON_SALE:
        for number, ticket in enumerate(page.tickets, start=1):
            rows.append(
                [
                    button(_("my-withdraw").format(number=number), MyCD(action=MyAction.WITHDRAW, id=ticket.id)),
                    button(_("my-show-barcode").format(number=number), MyCD(action=MyAction.BARCODE, id=ticket.id)),
                ]
            )
    navigation = []
    if page.next_key is not None:
        at, key = encode(page.next_key)
        navigation.append(button(_("my-next"), MyCD(action=MyAction.TAB, tab=tab, at=at, key=key)))
    if not first:
        navigation.append(button(_("my-first"), MyCD(action=MyAction.TAB, tab=tab)))
    rows.append(navigation)
    rows.append([list_button(_("my-purchases"))])
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def confirm_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("my-withdraw-yes"), MyCD(action=MyAction.CONFIRM, id=ticket_id)),
                button(_("my-withdraw-no"), MyCD(action=MyAction.TAB)),
            ]
        ]
    )
