"""Buy's keyboards: Pay / Let it go under the invoice, "tell me when it's free" and the event's waiting list, Buy
now in a notice."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.buy.callbacks import BuyAction, BuyCD, HoldAction, HoldCD
from handlers.events.keyboards import join_button


def invoice_keyboard(pay: str, cancel: str, order_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=pay, pay=True)],
            [InlineKeyboardButton(text=cancel, callback_data=HoldCD(action=HoldAction.CANCEL, id=order_id).pack())],
        ]
    )


def wait_keyboard(text: str, ticket_id: int, this_ticket: bool = True) -> InlineKeyboardMarkup:
    """ "Tell me when it's free" for this ticket (when `this_ticket`), and the event's waiting list."""
    rows = [[join_button(ticket_id)]]
    if this_ticket:
        data = BuyCD(action=BuyAction.WAIT, id=ticket_id)
        rows.insert(0, [InlineKeyboardButton(text=text, callback_data=data.pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def buy_now_keyboard(text: str, ticket_id: int) -> InlineKeyboardMarkup:
    data = BuyCD(action=BuyAction.BUY, id=ticket_id)
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data.pack())]])
