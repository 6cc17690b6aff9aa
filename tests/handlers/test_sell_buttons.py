"""The sell wizard's buttons through the real dispatcher: one drawn on another step, or missing what its step needs,
is told stale and moves nothing; a current one answers quietly and moves the wizard on."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import SendMessage

from db.models import EventType
from handlers.sell.callbacks import SellAction, SellCD, SellWizard
from services.draft import Step
from tests.factories import make_user
from tests.handlers.conftest import NOW, Chatting, person

SELLER = 6001


async def wizard_state(chatting: Chatting) -> str | None:
    key = StorageKey(bot_id=chatting.bot.id, chat_id=SELLER, user_id=SELLER)
    return await chatting.dispatcher.storage.get_state(key)


async def at_the_type_step(chatting: Chatting) -> int:
    """A registered seller who sent /sell; the number of messages the bot has sent so far."""
    async with chatting.repo() as repo:
        await make_user(repo, NOW, telegram_id=SELLER)
    await chatting.message(person(SELLER), "/sell")
    assert await wizard_state(chatting) == SellWizard.type.state
    return len(chatting.session.sent(SendMessage))


@pytest.mark.parametrize(
    "data",
    [
        SellCD(action=SellAction.TYPE, step=Step.TYPE).pack(),  # an event type button without its type
        SellCD(action=SellAction.BACK, step=Step.PRICE).pack(),  # Back drawn on a step the wizard is not at
    ],
)
async def test_a_stale_button_is_told_so_and_moves_nothing(chatting: Chatting, data: str) -> None:
    sent = await at_the_type_step(chatting)
    await chatting.press(person(SELLER), data)
    answer = chatting.session.answers()[-1]
    assert answer.show_alert and answer.text is not None and "out of date" in answer.text
    assert len(chatting.session.sent(SendMessage)) == sent
    assert await wizard_state(chatting) == SellWizard.type.state


async def test_a_current_button_answers_quietly_and_moves_on(chatting: Chatting) -> None:
    sent = await at_the_type_step(chatting)
    await chatting.press(person(SELLER), SellCD(action=SellAction.TYPE, step=Step.TYPE, kind=EventType.CONCERT).pack())
    answer = chatting.session.answers()[-1]
    assert not answer.show_alert and answer.text is None
    assert len(chatting.session.sent(SendMessage)) == sent + 1  # the name's prompt
    assert await wizard_state(chatting) == SellWizard.name.state
