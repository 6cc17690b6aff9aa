"""The sell wizard's keyboards: Back and Cancel under every prompt, the event types, the steps to edit."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.models import EventType, GroupMode
from handlers.sell.callbacks import SUMMARY, ClaimCD, SellAction, SellCD
from handlers.sell.views import STEP_KEYS
from handlers.shared.buttons import data_button
from handlers.shared.display import event_type_label
from services.draft import STEPS


def button(key: str, data: SellCD) -> InlineKeyboardButton:
    return data_button(_(key), data.pack())


def navigation(step: str, *, back: bool = True) -> list[InlineKeyboardButton]:
    row = [button("sell-back", SellCD(action=SellAction.BACK, step=step))] if back else []
    return [*row, button("sell-cancel", SellCD(action=SellAction.CANCEL, step=step))]


def with_navigation(step: str, *rows: list[InlineKeyboardButton], back: bool = True) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[*rows, navigation(step, back=back)])


def type_keyboard(step: str) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for kind in EventType:
        keyboard.button(text=event_type_label(kind), callback_data=SellCD(action=SellAction.TYPE, step=step, kind=kind))
    keyboard.adjust(2)
    keyboard.row(*navigation(step, back=False))
    return keyboard.as_markup()


def pick_keyboard(step: str, labels: tuple[str, ...]) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(text=label, callback_data=SellCD(action=SellAction.PICK, step=step, index=i).pack())]
        for i, label in enumerate(labels)
    ]
    return with_navigation(step, *rows)


def summary_keyboard(*, can_add: bool) -> InlineKeyboardMarkup:
    """Publish, Add another seat (while the listing has room for one), Edit."""
    rows = [[button("sell-publish", SellCD(action=SellAction.PUBLISH, step=SUMMARY))]]
    if can_add:
        rows.append([button("sell-add-seat", SellCD(action=SellAction.ADD, step=SUMMARY))])
    rows.append([button("sell-edit", SellCD(action=SellAction.EDIT, step=SUMMARY))])
    return with_navigation(SUMMARY, *rows)


def mode_keyboard(step: str) -> InlineKeyboardMarkup:
    rows = [
        [button(f"sell-mode-{mode}", SellCD(action=SellAction.MODE, step=step, mode=mode))]
        for mode in (GroupMode.TOGETHER, GroupMode.SEPARATELY)
    ]
    return with_navigation(step, *rows)


def prefill_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button("sell-prefill-use", SellCD(action=SellAction.PREFILL,
                                                                                        step=SUMMARY))]])  # fmt: skip


def edit_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for step in STEPS:
        keyboard.button(text=_(STEP_KEYS[step]), callback_data=SellCD(action=SellAction.GOTO, step=SUMMARY,
                                                                          goto=step))  # fmt: skip
    keyboard.adjust(3)
    keyboard.row(*navigation(SUMMARY, back=False))
    return keyboard.as_markup()


def claim_keyboard(ticket_id: int, token: str) -> InlineKeyboardMarkup:
    data = ClaimCD(ticket=ticket_id, token=token)
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("sell-claim"), callback_data=data.pack())]]
    )
