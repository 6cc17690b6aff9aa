"""The feed page kept in memory (services.kept_pages) through the real dispatcher: every viewer gets the same page,
its seller sees their own cards as theirs (no Buy), and a change to a ticket shows on the next view."""

from __future__ import annotations

from aiogram.methods import SendMessage
from sqlalchemy import update

from bot.i18n import i18n
from db.models import Ticket
from handlers.feed import pages
from services.feed import Filters, PageRef
from tests.factories import make_ticket, make_user
from tests.handlers.conftest import NOW, Chatting, person

SELLER, VIEWER, OTHER = 5301, 5302, 5303


def buys(sent: SendMessage) -> list[str]:
    rows = sent.reply_markup.inline_keyboard if sent.reply_markup else []  # type: ignore[union-attr]
    return [
        button.callback_data or "" for row in rows for button in row if (button.callback_data or "").startswith("buy:")
    ]


async def test_one_kept_page_for_every_viewer_its_seller_sees_theirs(chatting: Chatting) -> None:
    async with chatting.repo() as repo:
        seller = await make_user(repo, NOW, first_name="Sveta", telegram_id=SELLER)
        await make_user(repo, NOW, telegram_id=VIEWER)
        await make_user(repo, NOW, telegram_id=OTHER)
        first = await make_ticket(repo, seller, NOW, price=2000)
        await make_ticket(repo, seller, NOW, price=2100)

    await chatting.message(person(VIEWER), "/feed")
    await chatting.message(person(SELLER), "/feed")
    await chatting.message(person(OTHER), "/feed")
    viewer, mine, other = chatting.session.sent(SendMessage)[-3:]
    assert len(buys(viewer)) == 2 and "Sveta" in viewer.text and "Yours" not in viewer.text
    assert buys(mine) == [] and mine.text.count("Yours") == 2
    assert (other.text, buys(other)) == (viewer.text, buys(viewer))

    async with chatting.repo() as repo:  # a change no update made (an admin, another instance): the version moves
        await repo.session.execute(update(Ticket).where(Ticket.id == first.id).values(price=1900))
    await chatting.message(person(VIEWER), "/feed")
    again = chatting.session.sent(SendMessage)[-1]
    assert again.text != viewer.text and "1,900" in again.text.replace("\u202f", ",").replace("\xa0", ",")


async def test_a_page_read_for_one_viewer_is_drawn_and_let_go(chatting: Chatting) -> None:
    """A page read in a transaction that has written (the outbox's redraw of the Buy message after a payment) is
    never kept (services.kept_pages): it is drawn for its viewer and not held among the drawn pages, whose room is
    for the kept ones."""
    async with chatting.repo() as repo:
        seller = await make_user(repo, NOW, telegram_id=SELLER)
        viewer = await make_user(repo, NOW, telegram_id=VIEWER)
        ticket = await make_ticket(repo, seller, NOW, price=2000)
    drawn = pages._drawn.cache_info().currsize
    async with chatting.repo() as repo:
        await repo.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(price=2300))
        with i18n.context(), i18n.use_locale("en"):
            text, _markup = await pages.page_view(repo, NOW, Filters(), viewer, PageRef(), None, "en")
    assert "2,300" in text.replace("\u202f", ",").replace("\xa0", ",")
    assert pages._drawn.cache_info().currsize == drawn
