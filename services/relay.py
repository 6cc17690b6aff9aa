"""The anonymous relay: a buyer asks a ticket's seller through the bot, and neither learns who the other is.

A conversation is one (ticket, buyer) pair. What either side sends goes to the other with contacts masked
(services.masking), so the deal stays inside escrow. Replies find their conversation through the id of the message
the bot delivered (relay_routes). Messages are kept for disputes, then purged after the retention period."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.models import Conversation, ConversationStatus, RelayMessage, Ticket, TicketStatus, User
from db.repo import Repo
from db.repositories.relay import ClosedConversation
from services import outbox
from services.errors import DomainError
from services.masking import mask_contacts

ON_SALE = (TicketStatus.ACTIVE, TicketStatus.RESERVED)
CLOSED_NOTICE = "chat-closed"  # the outbox kind telling a party their conversation closed, and why
TEXT_MAX = 3000  # what is left of Telegram's 4,096 characters under the header naming the ticket
CHATS_LIMIT = 20

# Every code a DomainError from this module can carry (each needs a text in the talk catalogue).
ERROR_CODES = (
    "chat-not-registered",
    "chat-banned",
    "chat-gone",
    "chat-own-ticket",
    "chat-not-on-sale",
    "chat-blocked",
    "chat-not-yours",
    "chat-closed",
    "chat-flood",
    "chat-empty",
    "chat-too-long",
)


class Side(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


class CloseReason(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    BLOCKED = "blocked"
    SOLD = "sold"  # to someone else: the buyer of the conversation was not the one who bought
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    BLOCKED_TICKET = "ticket-blocked"


@dataclass(frozen=True)
class FloodLimit:
    """At most `messages` relayed per user within `seconds` (settings CHAT_FLOOD_MESSAGES, CHAT_FLOOD_SECONDS)."""

    messages: int
    seconds: int


def _allowed(user: User | None) -> User:
    if user is None:
        raise DomainError("chat-not-registered")
    if user.is_banned:
        raise DomainError("chat-banned")
    return user


def _side(conversation: Conversation, user: User) -> Side:
    if user.id == conversation.buyer_id:
        return Side.BUYER
    if user.id == conversation.seller_id:
        return Side.SELLER
    raise DomainError("chat-not-yours")


async def open_conversation(repo: Repo, now: datetime, buyer: User | None, ticket_id: int) -> Conversation:
    """ "Ask the seller": the buyer's conversation about this ticket, opened (or reopened) for writing."""
    buyer = _allowed(buyer)
    ticket = await repo.orders.ticket(ticket_id)
    if ticket is None:
        raise DomainError("chat-gone")
    if ticket.seller_id == buyer.id:
        raise DomainError("chat-own-ticket")
    if ticket.status not in ON_SALE or ticket.event_at <= now:
        raise DomainError("chat-not-on-sale")
    if await repo.relay.blocked_between(buyer.id, ticket.seller_id):
        raise DomainError("chat-blocked")
    conversation = await repo.relay.of_ticket_and_buyer(ticket_id, buyer.id)
    if conversation is None:
        fresh = Conversation(
            ticket_id=ticket_id,
            buyer_id=buyer.id,
            seller_id=ticket.seller_id,
            status=ConversationStatus.OPEN,
            created_at=now,
            last_at=now,
        )
        if await repo.relay.add(fresh) is not None:
            return fresh
        conversation = await repo.relay.of_ticket_and_buyer(ticket_id, buyer.id)  # a double tap opened it
        assert conversation is not None
    if conversation.status == ConversationStatus.CLOSED:
        await repo.relay.reopen(conversation.id, now)
        conversation = await repo.relay.conversation(conversation.id)
        assert conversation is not None
    return conversation


@dataclass(frozen=True)
class Relayed:
    """What to deliver: to `recipient_chat_id`, under a header naming `ticket`, the `text` (masked when `masked`,
    so the handler adds the note why), telling the recipient which side wrote."""

    conversation_id: int
    recipient_chat_id: int
    recipient_language: str
    sender_side: Side
    ticket: Ticket
    text: str
    masked: bool


async def relay(
    repo: Repo, now: datetime, sender: User | None, conversation_id: int, text: str, flood: FloodLimit
) -> Relayed:
    """Relay a text into an open conversation; the message is stored (masked) for disputes. The handler then sends
    it and calls remember_delivery with the id Telegram gave the delivered message."""
    sender = _allowed(sender)
    conversation = await repo.relay.conversation(conversation_id)
    if conversation is None:
        raise DomainError("chat-not-yours")
    side = _side(conversation, sender)
    if conversation.status != ConversationStatus.OPEN:
        raise DomainError("chat-closed")
    cleaned = text.strip()
    if not cleaned:
        raise DomainError("chat-empty")
    if len(cleaned) > TEXT_MAX:
        raise DomainError("chat-too-long", limit=TEXT_MAX)
    partner_id = conversation.seller_id if side == Side.BUYER else conversation.buyer_id
    if await repo.relay.blocked_between(sender.id, partner_id):
        raise DomainError("chat-blocked")
    if await repo.relay.sent_since(sender.id, now - timedelta(seconds=flood.seconds)) >= flood.messages:
        raise DomainError("chat-flood", seconds=flood.seconds)
    masked = mask_contacts(cleaned)
    await repo.relay.add_message(
        RelayMessage(
            conversation_id=conversation.id,
            sender_id=sender.id,
            text=masked.text,
            masked=masked.masked,
            created_at=now,
        )
    )
    partner = await repo.users.by_id(partner_id)
    ticket = await repo.orders.ticket(conversation.ticket_id)
    assert partner is not None and ticket is not None
    return Relayed(conversation.id, partner.telegram_id, partner.language, side, ticket, masked.text, masked.masked)


async def remember_delivery(repo: Repo, now: datetime, conversation_id: int, chat_id: int, message_id: int) -> None:
    """The bot delivered a relayed message as `message_id` in `chat_id`: a reply to it belongs to this conversation."""
    await repo.relay.add_route(chat_id, message_id, conversation_id, now)


async def reply_target(repo: Repo, user: User, replied_message_id: int) -> int | None:
    """The conversation a reply goes to: the one whose relayed message `user` replied to in their private chat
    with the bot; None when that message was not a relayed one (or not in a conversation of theirs)."""
    conversation_id = await repo.relay.route(user.telegram_id, replied_message_id)
    if conversation_id is None:
        return None
    conversation = await repo.relay.conversation(conversation_id)
    if conversation is None or user.id not in (conversation.buyer_id, conversation.seller_id):
        return None
    return conversation_id


@dataclass(frozen=True)
class ChatLine:
    conversation: Conversation
    ticket: Ticket
    side: Side  # the user's own side in it


@dataclass(frozen=True)
class Talk:
    """One conversation as one of its sides sees it: the ticket, their side, and the partner (for the bot only:
    the chat to deliver to and its language, never shown)."""

    conversation: Conversation
    ticket: Ticket
    side: Side
    partner: User


async def talk(repo: Repo, user: User, conversation_id: int) -> Talk:
    conversation = await repo.relay.conversation(conversation_id)
    if conversation is None:
        raise DomainError("chat-not-yours")
    side = _side(conversation, user)
    partner = await repo.users.by_id(conversation.seller_id if side == Side.BUYER else conversation.buyer_id)
    ticket = await repo.orders.ticket(conversation.ticket_id)
    assert partner is not None and ticket is not None
    return Talk(conversation, ticket, side, partner)


async def chats(repo: Repo, user: User, limit: int = CHATS_LIMIT) -> list[ChatLine]:
    """/chats: the user's conversations, open ones first, the latest first."""
    lines = await repo.relay.of_user(user.id, limit)
    return [ChatLine(line.conversation, line.ticket, _side(line.conversation, user)) for line in lines]


async def close(repo: Repo, now: datetime, user: User, conversation_id: int) -> ClosedConversation | None:
    """Either side closes the conversation; the parties to tell, or None when it was closed already."""
    conversation = await repo.relay.conversation(conversation_id)
    if conversation is None:
        raise DomainError("chat-not-yours")
    side = _side(conversation, user)
    if not await repo.relay.close(conversation_id, CloseReason(side.value), now):
        return None
    (closed,) = await repo.relay.closed_parties([conversation_id])
    await _tell_partner(repo, closed, side)
    return closed


async def block(repo: Repo, now: datetime, user: User, conversation_id: int) -> ClosedConversation | None:
    """The user blocks the partner of this conversation: it closes, and neither opens another with the other."""
    conversation = await repo.relay.conversation(conversation_id)
    if conversation is None:
        raise DomainError("chat-not-yours")
    side = _side(conversation, user)
    partner_id = conversation.seller_id if side == Side.BUYER else conversation.buyer_id
    await repo.relay.block(user.id, partner_id, now)
    if not await repo.relay.close(conversation_id, CloseReason.BLOCKED, now):
        return None
    (closed,) = await repo.relay.closed_parties([conversation_id])
    await _tell_partner(repo, closed, side)  # as if closed: the partner never learns they were blocked
    return closed


async def _tell_partner(repo: Repo, closed: ClosedConversation, side: Side) -> None:
    partner = closed.seller_chat_id if side == Side.BUYER else closed.buyer_chat_id
    await _tell_closed(repo, closed, CloseReason(side.value), [partner])


async def _tell_closed(repo: Repo, closed: ClosedConversation, reason: CloseReason, chat_ids: Sequence[int]) -> None:
    """Queued in the outbox, in the closing transaction (a conversation closes once: its id keys the rows)."""
    params = {"ticket_id": closed.ticket_id, "reason": reason.value}
    for chat_id in chat_ids:
        key = f"chat-closed:{closed.conversation_id}:{chat_id}"
        await outbox.enqueue(repo.session, CLOSED_NOTICE, chat_id, key, params)


async def close_for_tickets(
    repo: Repo, ticket_ids: Sequence[int], reason: CloseReason, now: datetime
) -> list[ClosedConversation]:
    """The tickets left sale (sold, expired, withdrawn, blocked): their open conversations close, in one UPDATE;
    the ones this call closed, with whom to tell. For a sale, the buyer's own conversation closes too: the deal
    is done and the dispute, if any, goes through the admins."""
    closed = await repo.relay.close_for_tickets(ticket_ids, reason, now)
    parties = await repo.relay.closed_parties(closed)
    for party in parties:
        await _tell_closed(repo, party, reason, [party.buyer_chat_id, party.seller_chat_id])
    return parties


async def purge(repo: Repo, now: datetime, retention_days: int) -> int:
    """Messages older than CHAT_RETENTION_DAYS -> deleted, except those an open dispute needs; how many went."""
    return await repo.relay.purge(now - timedelta(days=retention_days))


@dataclass(frozen=True)
class Transcript:
    conversation: Conversation
    messages: list[RelayMessage]


async def dispute_transcript(repo: Repo, dispute_id: int) -> Transcript | None:
    """For an admin deciding a dispute: the conversation between the disputed order's buyer and seller about its
    ticket, if they had one. There is no other way for anyone to read a conversation they are not in."""
    conversation = await repo.relay.of_dispute(dispute_id)
    if conversation is None:
        return None
    return Transcript(conversation, await repo.relay.messages(conversation.id))
