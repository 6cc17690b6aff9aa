"""The anonymous chat, share links and ratings through the real bot: a conversation both ways with contacts masked
and nothing of either side's identity in anything the bot sent the other; closing, closing by itself on a sale,
blocking; refusals that change nothing; a share link followed by a newcomer; a rating after the escrow released."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from db.models import Conversation, ConversationStatus, Rating
from db.repo import Repo
from sandbox.users import SimulatedUser
from services import listings
from services.masking import MASK, mask_contacts
from tests.e2e.conftest import Harness
from tests.e2e.market import buy_from_feed, list_tickets, open_feed
from tests.factories import barcode_samples

SELLER_ID, BUYER_ID, OTHER_ID = 731_234_567, 742_345_678, 753_456_789


def sent_to(h: Harness, person: SimulatedUser) -> str:
    """Every parameter of every call the bot made to this person's chat, as one text."""
    calls = [call.params for call in h.emu.calls if call.params.get("chat_id") in (person.id, str(person.id))]
    return json.dumps(calls, ensure_ascii=False, default=str)


def assert_knows_nothing_of(h: Harness, reader: SimulatedUser, other: SimulatedUser) -> None:
    """Nothing of `other`'s identity in any call the bot made to `reader`, and nothing left to mask in any message
    relayed to them."""
    seen = sent_to(h, reader)
    texts = [
        str(call.params.get("text", ""))
        for call in h.emu.calls
        if call.params.get("chat_id") in (reader.id, str(reader.id))
    ]
    relayed = [text for text in texts if "asks about" in text or "answers</b>" in text]
    assert relayed and any(MASK in text for text in relayed)
    for text in relayed:
        assert not mask_contacts(text).masked, text
    assert other.phone is not None
    for secret in (str(other.id), other.username, other.last_name, other.phone, other.phone.lstrip("+")):
        assert secret and secret not in seen, secret


async def conversations(h: Harness) -> list[tuple[ConversationStatus, str | None]]:
    assert h.app is not None
    async with h.app.sessionmaker() as session:
        rows = await session.execute(select(Conversation.status, Conversation.closed_reason).order_by(Conversation.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_conversation_both_ways_masked_then_closed_and_blocked(harness: Harness) -> None:
    h = harness
    seller = h.person(SELLER_ID, "Sveta", last_name="Ivanova", username="sveta_tickets")
    buyer = h.person(BUYER_ID, "Boris", last_name="Petrov", username="boris_buys")
    await h.register(seller)
    await h.register(buyer)
    await h.emu.wait_idle()
    await list_tickets(h, seller, event_name="Сплин")
    page = await open_feed(buyer)
    await buyer.click(page, "Ask 1")
    prompt = await buyer.wait_text("Write your question")
    await buyer.send("Still there? Call me +7 916 555-12-34 or @boris_real, or t.me/boris_real")
    asked = await seller.wait_text("A buyer asks about")
    assert "Сплин" in asked.content and "[hidden]" in asked.content and "hidden:" in asked.content
    assert "555" not in asked.content and "boris_real" not in asked.content
    assert "Sent" in (await buyer.wait_text("Sent")).content
    await seller.send("Yes! Mail me at sveta.ivanova@mail.ru", reply_to=asked)
    answered = await buyer.wait_text("The seller of")
    assert "[hidden]" in answered.content and "mail.ru" not in answered.content
    await seller.send("/chats")
    chats = await seller.wait_text("Your chats")
    assert "a buyer asked you" in chats.content and "open" in chats.content
    await seller.click(chats, "✍️ 1")
    await seller.wait_text("Write your answer")
    await seller.send("Row 5, see you there")
    assert "Row 5" in (await buyer.wait_text("Row 5")).content
    await buyer.send("Great, thanks", reply_to=answered)
    await seller.wait_text("Great, thanks")
    await h.emu.wait_idle()
    assert_knows_nothing_of(h, buyer, seller)
    assert_knows_nothing_of(h, seller, buyer)

    await buyer.click(prompt, "Close chat")
    await buyer.wait_text("The chat is closed")
    await seller.wait_text("closed by the other side")
    await buyer.send("one more thing")  # not into the closed chat: the writing state is over
    await h.emu.wait_idle()
    assert "one more thing" not in sent_to(h, seller)
    assert await conversations(h) == [(ConversationStatus.CLOSED, "buyer")]

    h.clock.move(timedelta(seconds=5))  # a person reads; the throttle (on the bot's clock) refills
    await buyer.click(page, "Ask 1")  # reopened
    await buyer.wait_text("Write your question")
    await buyer.send("Discount?")
    asked = await seller.wait_text("Discount?")
    await seller.click(asked, "Block")
    await seller.wait_text("Blocked")
    await buyer.wait_text("closed by the other side")
    h.clock.move(timedelta(seconds=5))
    refused = await buyer.click(page, "Ask 1")
    assert refused is not None and "can't chat" in (refused.text or "")
    assert await conversations(h) == [(ConversationStatus.CLOSED, "blocked")]


async def test_a_sale_closes_the_other_buyers_conversation(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, asker, buyer = h.person(SELLER_ID, "Sveta"), h.person(BUYER_ID, "Boris"), h.person(OTHER_ID, "Vera")
    for person in (seller, asker, buyer):
        await h.register(person)
    await h.emu.wait_idle()
    await list_tickets(h, seller, event_name="Земфира")
    await asker.click(await open_feed(asker), "Ask 1")
    await asker.wait_text("Write your question")
    await asker.send("Is the seat near the aisle?")
    await seller.wait_text("near the aisle")
    for number in range(2, 6):  # five in CHAT_FLOOD_SECONDS are relayed, the sixth is refused
        h.clock.move(timedelta(seconds=1))
        await asker.send(f"Question {number}")
        await seller.wait_text(f"Question {number}")
    h.clock.move(timedelta(seconds=1))
    await asker.send("Question 6")
    assert "Too many messages" in (await asker.wait_text("Wait")).content
    await h.emu.wait_idle()
    assert "Question 6" not in sent_to(h, seller)
    h.clock.move(timedelta(seconds=h.settings.chat_flood_seconds))
    invoice = await buy_from_feed(buyer)
    assert (await buyer.pay(invoice)).paid
    assert "has been sold" in (await asker.wait_text("The chat about")).content
    await seller.wait_text("has been sold")
    assert await conversations(h) == [(ConversationStatus.CLOSED, "sold")]
    await asker.send("Hello?")  # the chat is closed: refused, nothing relayed
    assert "closed" in (await asker.wait_text("This chat is closed")).content
    await h.emu.wait_idle()
    assert "Hello?" not in sent_to(h, seller)


async def test_refusals_change_nothing(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, stranger = h.person(SELLER_ID, "Sveta"), h.person(OTHER_ID, "Gleb")
    await h.register(seller)
    await h.emu.wait_idle()
    own, gone = await list_tickets(h, seller, barcode_samples("qr")[:2], event_name="Би-2")
    page = await open_feed(seller)
    assert not [text for text in page.button_texts if text.startswith("💬")]  # no Ask under one's own tickets
    refused = await seller.click_raw(f"talk:ask:{own.id}", page)
    assert refused is not None and "your own ticket" in (refused.text or "")
    await stranger.start()
    greeting = await stranger.wait_new()
    refused = await stranger.click_raw(f"talk:ask:{gone.id}", greeting)
    assert refused is not None and "register first" in (refused.text or "")
    await h.register(stranger)
    await h.emu.wait_idle()
    page = await open_feed(stranger)
    assert h.app is not None
    async with h.app.sessionmaker() as session, session.begin():
        repo = Repo(session)
        user = await repo.users.by_telegram_id(seller.id)
        assert user is not None
        await listings.withdraw(repo, user, gone.id, h.clock.now())  # as the seller's Withdraw button does
    refused = await stranger.click_raw(f"talk:ask:{gone.id}", page)
    assert refused is not None and "not on sale" in (refused.text or "")
    assert await conversations(h) == []


async def test_a_share_link_opens_the_card_for_a_newcomer(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, friend = h.person(SELLER_ID, "Sveta"), h.person(BUYER_ID, "Boris")
    newcomer = h.person(OTHER_ID, "Nina", language="ru")
    await h.register(seller)
    await h.register(friend)
    await h.emu.wait_idle()
    (ticket,) = await list_tickets(h, seller, event_name="Кино")
    await friend.click(await open_feed(friend), "🔗 1")
    card = await friend.wait_text("Link to this ticket")
    found = re.search(r"https://t\.me/stroboscope_test_bot\?start=(t_[A-Za-z0-9_-]{12})", card.content)
    assert found is not None, card.content
    payload = found.group(1)
    assert not payload[2:].isdigit() and str(ticket.id).zfill(12) != payload[2:]  # a random code, not the row's id
    await newcomer.start(payload)
    greeting = await newcomer.wait_new()
    await newcomer.press(greeting.reply_markup["keyboard"][0][0]["text"])  # type: ignore[index]
    opened = await newcomer.wait_text("Ссылка на этот билет")
    assert "Кино" in opened.content and "Пока без оценок · 0 продаж" in opened.content
    assert "🛒 Купить" in opened.button_texts and "💬 Спросить продавца" in opened.button_texts
    await newcomer.click(opened, "💬 Спросить продавца")
    await newcomer.wait_text("Напишите вопрос")
    await friend.start("t_AAAAAAAAAAAA")
    assert "leads nowhere" in (await friend.wait_text("leads nowhere")).content


async def test_a_rating_after_the_escrow_released(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    seller, buyer = h.person(SELLER_ID, "Sveta"), h.person(BUYER_ID, "Boris")
    await h.register(seller)
    await h.register(buyer)
    await h.emu.wait_idle()
    await list_tickets(h, seller, event_name="Гамлет", event_at=h.clock.now() + timedelta(days=2))
    invoice = await buy_from_feed(buyer)
    assert (await buyer.pay(invoice)).paid
    await buyer.wait_text("Your ticket")
    await buyer.send("/purchases")
    early = await buyer.wait_text("My purchases")
    assert not [text for text in early.button_texts if "Rate" in text]
    h.clock.move(timedelta(days=2, hours=h.settings.escrow_hours + 1))
    assert h.app is not None
    assert await h.app.scheduler.sweeper.release_escrow() == 1
    await buyer.send("/purchases")
    listing = await buyer.wait_text("My purchases")
    await buyer.click(listing, "⭐ Rate 1")
    stars = await buyer.wait_text("How was the deal")
    await buyer.click(stars, "⭐⭐⭐⭐")
    await buyer.wait_text("A few words")
    await buyer.send("Quick and honest")
    assert "⭐⭐⭐⭐ Quick and honest" in (await buyer.wait_text("Thank you")).content
    again = await buyer.click(stars, "⭐⭐⭐⭐⭐")
    assert again is not None and "already" in (again.text or "")
    async with h.app.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Rating)) == 1
    later = h.clock.now() + timedelta(days=3)
    await list_tickets(h, seller, barcode_samples("qr")[1:2], event_name="Чайка", event_at=later)
    page = await open_feed(buyer)
    assert "⭐ 4.0 · 1 sale" in page.content
