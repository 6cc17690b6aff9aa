"""The anonymous relay's rows: conversations, their messages, the bot's delivered message ids, and blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.engine import rowcount
from db.models import (
    Conversation,
    ConversationStatus,
    Dispute,
    DisputeStatus,
    Order,
    RelayMessage,
    RelayRoute,
    Ticket,
    User,
    UserBlock,
)
from db.repositories.orders import bare_update


@dataclass(frozen=True)
class ClosedConversation:
    conversation_id: int
    ticket_id: int
    buyer_chat_id: int
    seller_chat_id: int


@dataclass(frozen=True)
class ConversationLine:
    conversation: Conversation
    ticket: Ticket


class RelayRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def conversation(self, conversation_id: int) -> Conversation | None:
        return await self.session.get(Conversation, conversation_id, populate_existing=True)

    async def of_ticket_and_buyer(self, ticket_id: int, buyer_id: int) -> Conversation | None:
        query = select(Conversation).where(Conversation.ticket_id == ticket_id, Conversation.buyer_id == buyer_id)
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def add(self, conversation: Conversation) -> Conversation | None:
        """None when a concurrent transaction opened this (ticket, buyer) conversation first."""
        try:
            async with self.session.begin_nested():
                self.session.add(conversation)
        except IntegrityError:
            return None
        return conversation

    async def reopen(self, conversation_id: int, now: datetime) -> None:
        await self.session.execute(
            bare_update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(status=ConversationStatus.OPEN, closed_reason=None, closed_at=None, last_at=now)
        )

    async def close(self, conversation_id: int, reason: str, now: datetime) -> bool:
        statement = (
            bare_update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status == ConversationStatus.OPEN)
            .values(status=ConversationStatus.CLOSED, closed_reason=reason, closed_at=now)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def close_for_tickets(self, ticket_ids: Sequence[int], reason: str, now: datetime) -> list[int]:
        """Open conversations about these tickets -> closed; the ids this call closed."""
        if not ticket_ids:
            return []
        statement = (
            bare_update(Conversation)
            .where(Conversation.ticket_id.in_(ticket_ids), Conversation.status == ConversationStatus.OPEN)
            .values(status=ConversationStatus.CLOSED, closed_reason=reason, closed_at=now)
            .returning(Conversation.id)
        )
        return sorted((await self.session.execute(statement)).scalars())

    async def closed_parties(self, conversation_ids: Sequence[int]) -> list[ClosedConversation]:
        if not conversation_ids:
            return []
        buyer, seller = aliased(User), aliased(User)
        query = (
            select(Conversation.id, Conversation.ticket_id, buyer.telegram_id, seller.telegram_id)
            .join(buyer, buyer.id == Conversation.buyer_id)
            .join(seller, seller.id == Conversation.seller_id)
            .where(Conversation.id.in_(conversation_ids))
            .order_by(Conversation.id)
        )
        return [ClosedConversation(*row) for row in await self.session.execute(query)]

    async def of_user(self, user_id: int, limit: int) -> list[ConversationLine]:
        """The user's conversations, either side, open ones first, the latest message first."""
        query = (
            select(Conversation, Ticket)
            .join(Ticket, Ticket.id == Conversation.ticket_id)
            .where(or_(Conversation.buyer_id == user_id, Conversation.seller_id == user_id))
            .order_by((Conversation.status == ConversationStatus.OPEN).desc(), Conversation.last_at.desc())
            .limit(limit)
        )
        return [ConversationLine(*row) for row in (await self.session.execute(query)).all()]

    # --- messages ------------------------------------------------------------------------------------------
    async def add_message(self, message: RelayMessage) -> None:
        self.session.add(message)
        await self.session.flush()
        await self.session.execute(
            bare_update(Conversation)
            .where(Conversation.id == message.conversation_id)
            .values(last_at=message.created_at)
        )

    async def sent_since(self, sender_id: int, since: datetime) -> int:
        query = select(func.count(RelayMessage.id)).where(
            RelayMessage.sender_id == sender_id, RelayMessage.created_at > since
        )
        return int(await self.session.scalar(query) or 0)

    async def messages(self, conversation_id: int) -> list[RelayMessage]:
        query = select(RelayMessage).where(RelayMessage.conversation_id == conversation_id).order_by(RelayMessage.id)
        return list((await self.session.execute(query)).scalars())

    async def add_route(self, chat_id: int, message_id: int, conversation_id: int, now: datetime) -> None:
        await self.session.execute(
            insert(RelayRoute).values(
                chat_id=chat_id, message_id=message_id, conversation_id=conversation_id, created_at=now
            )
        )

    async def route(self, chat_id: int, message_id: int) -> int | None:
        query = select(RelayRoute.conversation_id).where(
            RelayRoute.chat_id == chat_id, RelayRoute.message_id == message_id
        )
        return await self.session.scalar(query)

    async def purge(self, before: datetime) -> int:
        """Messages and routes older than `before` -> deleted, except those of a conversation an open dispute
        needs (the dispute's order is the conversation's ticket bought by its buyer); how many messages went."""
        disputed = exists().where(
            Dispute.status == DisputeStatus.OPEN,
            Order.id == Dispute.order_id,
            Order.ticket_id == Conversation.ticket_id,
            Order.buyer_id == Conversation.buyer_id,
        )
        keep = select(Conversation.id).where(disputed)
        result = await self.session.execute(
            delete(RelayMessage)
            .where(RelayMessage.created_at < before, RelayMessage.conversation_id.not_in(keep))
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            delete(RelayRoute)
            .where(RelayRoute.created_at < before, RelayRoute.conversation_id.not_in(keep))
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def of_dispute(self, dispute_id: int) -> Conversation | None:
        query = (
            select(Conversation)
            .join(Order, and_(Order.ticket_id == Conversation.ticket_id, Order.buyer_id == Conversation.buyer_id))
            .join(Dispute, Dispute.order_id == Order.id)
            .where(Dispute.id == dispute_id)
        )
        return await self.session.scalar(query)

    # --- blocks --------------------------------------------------------------------------------------------
    async def blocked_between(self, one: int, other: int) -> bool:
        query = select(UserBlock.blocker_id).where(
            or_(
                and_(UserBlock.blocker_id == one, UserBlock.blocked_id == other),
                and_(UserBlock.blocker_id == other, UserBlock.blocked_id == one),
            )
        )
        return (await self.session.scalar(query.limit(1))) is not None

    async def block(self, blocker_id: int, blocked_id: int, now: datetime) -> None:
        if await self.blocked_between(blocker_id, blocked_id):
            return
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    insert(UserBlock).values(blocker_id=blocker_id, blocked_id=blocked_id, created_at=now)
                )
        except IntegrityError:  # a double tap racing itself
            pass
