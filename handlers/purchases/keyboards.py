"""The buttons under a delivered ticket, the purchases list's, and the seller's Reply to a dispute."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.purchases.callbacks import DisputeAction, DisputeCD, PurchaseAction, PurchaseCD


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def delivered_keyboard(dispute: str, open_list: str, order_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(dispute, PurchaseCD(action=PurchaseAction.DISPUTE, id=order_id))],
            [button(open_list, PurchaseCD(action=PurchaseAction.LIST))],
        ]
    )


def list_button(text: str) -> InlineKeyboardButton:
    return button(text, PurchaseCD(action=PurchaseAction.LIST))


def reply_keyboard(text: str, dispute_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(text, DisputeCD(action=DisputeAction.REPLY, id=dispute_id))]])
