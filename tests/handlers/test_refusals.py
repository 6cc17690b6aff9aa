"""Refusals and branches that need no HTTP, through the real dispatcher: forged and stale buttons, an unregistered
user, an invoice or a callback answer Telegram did not take, the read path writing nothing, the errors router."""

from __future__ import annotations

import logging

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramServerError
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import AnswerCallbackQuery, SendInvoice, SendMessage
from sqlalchemy import select

from db.models import Order, OrderStatus, Ticket, TicketStatus
from handlers.buy.callbacks import BuyAction, BuyCD
from handlers.errors import ADMIN_NOTICE_SECONDS
from services.errors import DomainError
from tests.factories import make_ticket, make_user
from tests.handlers.conftest import ADMIN_ID, NOW, Chatting, person

STALE = "This button is out of date. Open the menu again."


async def registered(chatting: Chatting, telegram_id: int) -> int:
    async with chatting.repo() as repo:
        return (await make_user(repo, NOW, telegram_id=telegram_id)).id


async def listed(chatting: Chatting, seller_telegram_id: int) -> int:
    async with chatting.repo() as repo:
        seller = await make_user(repo, NOW, telegram_id=seller_telegram_id, first_name="Sveta")
        return (await make_ticket(repo, seller, NOW)).id


def last_answer(chatting: Chatting) -> AnswerCallbackQuery:
    return chatting.session.answers()[-1]


@pytest.mark.parametrize(
    "data",
    [
        "buy:buy:99999999999:0:0",  # an id no column holds
        "buy:steal:1:0:0",  # an action no button has
        "feed:type:0:0:a:opera:0",  # an event type that does not exist
        "my:tab:sold-out:0:0:0",  # a tab that does not exist
    ],
)
async def test_forged_buttons_get_the_stale_answer(chatting: Chatting, data: str) -> None:
    await registered(chatting, 5001)
    await chatting.press(person(5001), data)
    answer = last_answer(chatting)
    assert answer.show_alert and answer.text is not None and "out of date" in answer.text
    assert not chatting.session.sent(SendMessage) and not chatting.session.sent(SendInvoice)


async def test_an_unregistered_user_is_asked_to_register(chatting: Chatting) -> None:
    ticket_id = await listed(chatting, 5002)
    await chatting.press(person(5003), BuyCD(action=BuyAction.BUY, id=ticket_id).pack())
    answer = last_answer(chatting)
    assert answer.show_alert and answer.text is not None and "register first" in answer.text
    assert not chatting.session.sent(SendInvoice)
    async with chatting.repo() as repo:
        assert (await repo.session.get(Ticket, ticket_id)).status == TicketStatus.ACTIVE  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "failure",
    [
        TelegramBadRequest(AnswerCallbackQuery(callback_query_id="1"), "Bad Request: query is too old"),
        TelegramServerError(AnswerCallbackQuery(callback_query_id="1"), "Internal Server Error"),
    ],
)
async def test_a_failed_callback_answer_does_not_stop_the_invoice(chatting: Chatting, failure: Exception) -> None:
    ticket_id = await listed(chatting, 5004)
    await registered(chatting, 5005)
    chatting.session.fail(AnswerCallbackQuery, failure)
    await chatting.press(person(5005), BuyCD(action=BuyAction.BUY, id=ticket_id).pack())
    assert len(chatting.session.sent(SendInvoice)) == 1
    async with chatting.repo() as repo:
        assert (await repo.session.get(Ticket, ticket_id)).status == TicketStatus.RESERVED  # type: ignore[union-attr]


async def test_an_invoice_telegram_refused_releases_the_hold(chatting: Chatting) -> None:
    ticket_id = await listed(chatting, 5006)
    await registered(chatting, 5007)
    chatting.session.fail(SendInvoice, TelegramBadRequest(SendInvoice(chat_id=1, title="t", description="d",
                          payload="p", currency="XTR", prices=[]), "Bad Request: CURRENCY_INVALID"))  # fmt: skip
    await chatting.press(person(5007), BuyCD(action=BuyAction.BUY, id=ticket_id).pack())
    async with chatting.repo() as repo:
        assert (await repo.session.get(Ticket, ticket_id)).status == TicketStatus.ACTIVE  # type: ignore[union-attr]
        orders = (await repo.session.scalars(select(Order).where(Order.ticket_id == ticket_id))).all()
        assert [order.status for order in orders] == [OrderStatus.CANCELLED]
    told = chatting.session.sent(SendMessage)[-1]
    assert told.chat_id == 5007 and "could not be prepared" in told.text


async def test_opening_the_feed_writes_no_state(chatting: Chatting) -> None:
    await registered(chatting, 5008)
    storage = chatting.dispatcher.fsm.storage
    writes: list[str] = []
    set_state = storage.set_state

    async def spy(key, state=None):  # type: ignore[no-untyped-def]
        writes.append(str(state))
        await set_state(key, state)

    storage.set_state = spy  # type: ignore[method-assign]
    await chatting.message(person(5008), "/feed")
    assert writes == []
    assert "Tickets on sale" in chatting.session.sent(SendMessage)[-1].text


async def test_an_unexpected_error_is_answered_logged_once_and_told_to_admins(
    chatting: Chatting, caplog: pytest.LogCaptureFixture
) -> None:
    await registered(chatting, 5009)
    secret = "+79161234567 QR-SECRET-TEXT"
    for _ in range(2):  # the second failure within a minute tells the admins nothing new
        chatting.session.fail(SendMessage, RuntimeError(secret))
        with caplog.at_level(logging.ERROR, logger="handlers.errors"):
            await chatting.message(person(5009), "/help")
    apologies = [m for m in chatting.session.sent(SendMessage) if m.chat_id == 5009 and "went wrong" in m.text]
    assert [m.text for m in apologies] == ["Something went wrong on our side; nothing was charged or changed. "
                                           "Please try again."] * 2  # fmt: skip
    to_admins = [m for m in chatting.session.sent(SendMessage) if m.chat_id == ADMIN_ID]
    assert len(to_admins) == 1 and "RuntimeError" in to_admins[0].text
    lines = [record.getMessage() for record in caplog.records if record.name == "handlers.errors"]
    assert len(lines) == 2 and all("failed: RuntimeError" in line for line in lines)
    assert all(secret not in line and "+7916" not in line for line in lines)
    assert ADMIN_NOTICE_SECONDS >= 60


class Boom(CallbackData, prefix="boom"):
    code: str


async def test_a_domain_error_is_rendered_in_the_users_language(chatting: Chatting) -> None:
    """A refusal a service raises and no handler catches reaches the user as its text, in their language."""
    from aiogram import F, Router

    async def refuse(callback: object) -> None:
        raise DomainError("buy-gone")

    router = Router(name="boom")
    router.callback_query.register(refuse, Boom.filter(F.code == "x"))
    chatting.dispatcher.include_router(router)
    chatting.dispatcher.sub_routers.insert(0, chatting.dispatcher.sub_routers.pop())  # tried before the fallback
    await registered(chatting, 5010)
    await chatting.press(person(5010, "ru"), Boom(code="x").pack())
    answer = last_answer(chatting)
    assert answer.show_alert and answer.text and "продаётся" in answer.text
