"""A stale Buy on a message that still offers a sold ticket: the answer says it is sold (to its buyer: theirs) and the
message is drawn again without Buy; a forged press on a message without that button redraws nothing."""

from __future__ import annotations

from aiogram.methods import EditMessageText
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from db.models import TicketStatus
from handlers.buy.callbacks import BuyAction, BuyCD
from tests.factories import make_ticket, make_user
from tests.handlers.conftest import NOW, Chatting, person


async def sold_ticket(chatting: Chatting, buyer_telegram_id: int, other_telegram_id: int) -> int:
    async with chatting.repo() as repo:
        seller = await make_user(repo, NOW, first_name="Sveta")
        buyer = await make_user(repo, NOW, telegram_id=buyer_telegram_id)
        await make_user(repo, NOW, telegram_id=other_telegram_id)
        ticket = await make_ticket(repo, seller, NOW, status=TicketStatus.SOLD)
        ticket.buyer_id = buyer.id
        return ticket.id


def offering(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Buy", callback_data=data)]])


async def test_a_stale_buy_on_a_card_says_sold_and_redraws_it(chatting: Chatting) -> None:
    ticket_id = await sold_ticket(chatting, 5201, 5202)
    data = BuyCD(action=BuyAction.BUY, id=ticket_id).pack()  # a shared card's or a notice's Buy

    await chatting.press(person(5202), data, offering(data))
    answer = chatting.session.answers()[-1]
    assert answer.show_alert and answer.text == "This ticket is already sold."
    (edit,) = chatting.session.sent(EditMessageText)
    assert "Сплин" in edit.text and "not on sale any more" in edit.text and edit.reply_markup is None

    await chatting.press(person(5201), data, offering(data))
    assert "You bought this ticket already" in (chatting.session.answers()[-1].text or "")
    mine = chatting.session.sent(EditMessageText)[-1]
    assert "You bought this ticket" in mine.text and mine.reply_markup is None

    await chatting.press(person(5202), data)  # the same data on a message that never showed it
    assert chatting.session.answers()[-1].text == "This ticket is already sold."
    assert len(chatting.session.sent(EditMessageText)) == 2
