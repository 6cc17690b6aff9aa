"""Two prices when the bot takes Telegram Stars: the feed's card, the Buy answer and the invoice say the listing's
price and what it costs in Stars (the fee folded in), in the reader's language; with a provider nothing changes."""

from __future__ import annotations

import pytest
from aiogram.methods import SendInvoice, SendMessage

from handlers.buy.callbacks import BuyAction, BuyCD
from tests.factories import make_ticket, make_user
from tests.handlers.conftest import NOW, Chatting, person

STARS_FEE = {"service_fee_percent": 10, "stars_per_unit": 0.6}
PROVIDER = {"service_fee_percent": 10, "payment_provider_token": "381764678:TEST:100500"}


async def listed_at(chatting: Chatting, price: int, buyer_telegram_id: int, language: str) -> int:
    async with chatting.repo() as repo:
        seller = await make_user(repo, NOW, first_name="Sveta")
        await make_user(repo, NOW, telegram_id=buyer_telegram_id, language=language)
        return (await make_ticket(repo, seller, NOW, price=price, face_value=price)).id


async def feed_then_buy(chatting: Chatting, buyer: int, language: str, ticket_id: int) -> tuple[str, str, SendInvoice]:
    """The feed's text, the Buy answer's text and the invoice."""
    await chatting.message(person(buyer, language), "/feed")
    page = chatting.session.sent(SendMessage)[-1].text
    await chatting.press(person(buyer, language), BuyCD(action=BuyAction.BUY, id=ticket_id).pack())
    answer = chatting.session.answers()[-1].text or ""
    (invoice,) = chatting.session.sent(SendInvoice)
    return page, answer, invoice


@pytest.mark.parametrize("settings_overrides", [STARS_FEE])
async def test_stars_say_both_prices_in_english(chatting: Chatting) -> None:
    ticket_id = await listed_at(chatting, 3500, 5101, "en")
    page, answer, invoice = await feed_then_buy(chatting, 5101, "en", ticket_id)
    both = "3,500\u00a0RUB · paid in Telegram Stars: ⭐ 2,310 (incl. 10% service fee)"  # 3500 x 0.6 x 1.1
    assert both in page
    assert "held for you" in answer and both in answer
    assert both in invoice.description and invoice.currency == "XTR"
    assert [(price.label, price.amount) for price in invoice.prices] == [
        ("Ticket 3,500\u00a0RUB + service fee 10%", 2310)
    ]


@pytest.mark.parametrize("settings_overrides", [{"stars_per_unit": 0.6}])
async def test_stars_say_both_prices_in_russian_without_a_fee(chatting: Chatting) -> None:
    ticket_id = await listed_at(chatting, 3500, 5102, "ru")
    page, answer, invoice = await feed_then_buy(chatting, 5102, "ru", ticket_id)
    both = "3\u00a0500\u00a0₽ · оплата в Telegram Stars: ⭐ 2\u00a0100"
    assert both in page and "сбор" not in page
    assert both in answer and both in invoice.description
    assert [(price.label, price.amount) for price in invoice.prices] == [("Билет 3\u00a0500\u00a0₽", 2100)]


@pytest.mark.parametrize("settings_overrides", [PROVIDER])
async def test_a_provider_shows_one_price(chatting: Chatting) -> None:
    ticket_id = await listed_at(chatting, 3500, 5103, "en")
    page, answer, invoice = await feed_then_buy(chatting, 5103, "en", ticket_id)
    assert "Stars" not in page and "Stars" not in answer and "Stars" not in invoice.description
    assert answer == "The ticket is held for you for 15 minutes: pay below."
    assert [(price.label, price.amount) for price in invoice.prices] == [
        ("Ticket", 350_000),
        ("Service fee 10%", 35_000),
    ]
