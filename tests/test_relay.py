"""The anonymous relay on both backends: who may open a conversation, masking in what is stored and delivered,
replies by the delivered message id, closing by hand and with the ticket, blocks, flooding, retention, disputes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.models import ConversationStatus, Dispute, TicketStatus
from db.repo import Repo
from services import relay
from services.errors import DomainError
from services.masking import MASK
from services.relay import CloseReason, FloodLimit, Side
from tests.factories import make_ticket, make_user, make_users
from tests.test_trust import paid_order

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FLOOD = FloodLimit(messages=3, seconds=60)


async def refused(code: str, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.code == code


async def test_who_may_open_a_conversation(repo: Repo) -> None:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW)
    sold = await make_ticket(repo, seller, NOW, status=TicketStatus.SOLD)
    await refused("chat-not-registered", relay.open_conversation(repo, NOW, None, ticket.id))
    await refused("chat-own-ticket", relay.open_conversation(repo, NOW, seller, ticket.id))
    await refused("chat-not-on-sale", relay.open_conversation(repo, NOW, buyer, sold.id))
    await refused("chat-gone", relay.open_conversation(repo, NOW, buyer, 10**6))
    banned = await make_user(repo, NOW)
    banned.is_banned = True
    await refused("chat-banned", relay.open_conversation(repo, NOW, banned, ticket.id))
    first = await relay.open_conversation(repo, NOW, buyer, ticket.id)
    again = await relay.open_conversation(repo, NOW, buyer, ticket.id)
    assert first.id == again.id and first.seller_id == seller.id


async def test_both_ways_masked_and_replies_routed(repo: Repo) -> None:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW)
    conversation = await relay.open_conversation(repo, NOW, buyer, ticket.id)
    asked = await relay.relay(repo, NOW, buyer, conversation.id, "Is row 5 ok? call +7 912 345-67-89", FLOOD)
    assert (asked.recipient_chat_id, asked.sender_side, asked.ticket.id) == (seller.telegram_id, Side.BUYER, ticket.id)
    assert asked.masked and "345" not in asked.text and MASK in asked.text
    await relay.remember_delivery(repo, NOW, conversation.id, seller.telegram_id, 501)
    target = await relay.reply_target(repo, seller, 501)
    assert target == conversation.id
    assert await relay.reply_target(repo, seller, 502) is None
    assert await relay.reply_target(repo, buyer, 501) is None  # that message id is in the seller's chat
    answer = await relay.relay(repo, NOW, seller, target, "Yes, the aisle seat.", FLOOD)
    assert (answer.recipient_chat_id, answer.sender_side, answer.masked) == (buyer.telegram_id, Side.SELLER, False)
    stranger = await make_user(repo, NOW)
    await refused("chat-not-yours", relay.relay(repo, NOW, stranger, conversation.id, "hi", FLOOD))
    await refused("chat-empty", relay.relay(repo, NOW, buyer, conversation.id, "   ", FLOOD))
    stored = await repo.relay.messages(conversation.id)
    assert [m.masked for m in stored] == [True, False] and "912" not in stored[0].text
    (line,) = await relay.chats(repo, seller)
    assert (line.conversation.id, line.side) == (conversation.id, Side.SELLER)


async def test_close_block_and_auto_close(repo: Repo) -> None:
    seller, buyer, other = await make_users(repo, NOW, 3)
    ticket = await make_ticket(repo, seller, NOW)
    mine = await relay.open_conversation(repo, NOW, buyer, ticket.id)
    theirs = await relay.open_conversation(repo, NOW, other, ticket.id)
    closed = await relay.close(repo, NOW, seller, mine.id)
    assert closed is not None and closed.buyer_chat_id == buyer.telegram_id
    assert await relay.close(repo, NOW, buyer, mine.id) is None
    await refused("chat-closed", relay.relay(repo, NOW, buyer, mine.id, "hello?", FLOOD))
    reopened = await relay.open_conversation(repo, NOW, buyer, ticket.id)
    assert reopened.id == mine.id and reopened.status == ConversationStatus.OPEN

    auto = await relay.close_for_tickets(repo, [ticket.id], CloseReason.SOLD, NOW)
    assert {c.conversation_id for c in auto} == {mine.id, theirs.id}
    assert await relay.close_for_tickets(repo, [ticket.id], CloseReason.SOLD, NOW) == []

    second = await make_ticket(repo, seller, NOW)
    talk = await relay.open_conversation(repo, NOW, other, second.id)
    assert await relay.block(repo, NOW, seller, talk.id) is not None
    third = await make_ticket(repo, seller, NOW)
    await refused("chat-blocked", relay.open_conversation(repo, NOW, other, third.id))


async def test_flood_is_throttled(repo: Repo) -> None:
    seller, buyer = await make_users(repo, NOW, 2)
    conversation = await relay.open_conversation(repo, NOW, buyer, (await make_ticket(repo, seller, NOW)).id)
    for n in range(FLOOD.messages):
        await relay.relay(repo, NOW + timedelta(seconds=n), buyer, conversation.id, f"question {n}", FLOOD)
    await refused("chat-flood", relay.relay(repo, NOW + timedelta(seconds=5), buyer, conversation.id, "more", FLOOD))
    later = NOW + timedelta(seconds=FLOOD.seconds + 1)
    await relay.relay(repo, later, buyer, conversation.id, "after a minute", FLOOD)


async def test_retention_keeps_what_an_open_dispute_needs_and_admins_read_through_it(repo: Repo) -> None:
    seller, buyer, other = await make_users(repo, NOW, 3)
    disputed = await make_ticket(repo, seller, NOW)
    plain = await make_ticket(repo, seller, NOW)
    kept = await relay.open_conversation(repo, NOW, buyer, disputed.id)
    gone = await relay.open_conversation(repo, NOW, other, plain.id)
    await relay.relay(repo, NOW, buyer, kept.id, "does it work?", FLOOD)
    await relay.relay(repo, NOW, other, gone.id, "is it real?", FLOOD)
    order = await paid_order(repo, disputed, buyer, "p1")
    dispute = Dispute(order_id=order.id, opened_by=buyer.id, buyer_text="didn't work", opened_at=NOW)
    repo.session.add(dispute)
    await repo.session.flush()
    assert await relay.purge(repo, NOW + timedelta(days=29), retention_days=30) == 0
    assert await relay.purge(repo, NOW + timedelta(days=31), retention_days=30) == 1
    transcript = await relay.dispute_transcript(repo, dispute.id)
    assert transcript is not None and [m.text for m in transcript.messages] == ["does it work?"]
    assert await repo.relay.messages(gone.id) == []
    assert await relay.dispute_transcript(repo, 10**6) is None
