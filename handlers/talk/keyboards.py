"""The chat's keyboards: under a relayed message and the writing prompt, and the /chats list."""

from __future__ import annotations

from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import translate
from handlers.talk.callbacks import TalkAction, TalkCD


@lru_cache(maxsize=1024)  # one instance per label and ticket: see handlers.shared.buttons
def ask_button(text: str, ticket_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=TalkCD(action=TalkAction.ASK, id=ticket_id).pack())


def conversation_keyboard(conversation_id: int, language: str, *, reply: bool) -> InlineKeyboardMarkup:
    """Reply (under a relayed message), Close and Block, in the reader's language."""
    actions = [TalkAction.WRITE] if reply else []
    actions += [TalkAction.CLOSE, TalkAction.BLOCK]
    labels = {TalkAction.WRITE: "talk-reply", TalkAction.CLOSE: "talk-close", TalkAction.BLOCK: "talk-block"}
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=translate(labels[action], language),
                    callback_data=TalkCD(action=action, id=conversation_id).pack(),
                )
                for action in actions
            ]
        ]
    )


def chats_keyboard(open_ids: list[tuple[int, int]], label: str) -> InlineKeyboardMarkup:
    """A "write" button for each open conversation of the list: (its number, its id)."""
    buttons = [
        InlineKeyboardButton(
            text=label.format(number=number), callback_data=TalkCD(action=TalkAction.WRITE, id=conversation_id).pack()
        )
        for number, conversation_id in open_ids
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 5] for i in range(0, len(buttons), 5)])
