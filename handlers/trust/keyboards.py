"""Buttons of sharing and rating: Share under a card, the shared card's Buy and Ask, the stars."""

from __future__ import annotations

from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.buy.callbacks import BuyAction, BuyCD
from handlers.talk.keyboards import ask_button
from handlers.trust.callbacks import TrustAction, TrustCD
from services.ratings import STARS


@lru_cache(maxsize=1024)  # one instance per label and ticket: see handlers.shared.buttons
def share_button(text: str, ticket_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=TrustCD(action=TrustAction.SHARE, id=ticket_id).pack())


def rate_button(text: str, order_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=TrustCD(action=TrustAction.RATE, id=order_id).pack())


def shared_card_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    buy = InlineKeyboardButton(text=_("share-buy"), callback_data=BuyCD(action=BuyAction.BUY, id=ticket_id).pack())
    return InlineKeyboardMarkup(inline_keyboard=[[buy, ask_button(_("talk-ask-one"), ticket_id)]])


def stars_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="⭐" * stars,
                    callback_data=TrustCD(action=TrustAction.STARS, id=order_id, stars=stars).pack(),
                )
                for stars in STARS
            ]
        ]
    )


def skip_keyboard(order_id: int, stars: int) -> InlineKeyboardMarkup:
    skip = TrustCD(action=TrustAction.SKIP, id=order_id, stars=stars)
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("rate-skip"), callback_data=skip.pack())]]
    )
