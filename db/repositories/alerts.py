"""Saved searches: the alerts themselves, and the one statement that finds who to tell about a ticket and marks them
told (alerts_sent), so nobody is told twice about one ticket whatever alerts of theirs match it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import rowcount
from db.models import Alert, AlertSent, AlertWord, Ticket, User
from db.repositories.feed import LIKE_ESCAPE, like_contains


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, alert: Alert, words: Sequence[str]) -> Alert:
        self.session.add(alert)
        await self.session.flush()
        self.session.add_all(AlertWord(alert_id=alert.id, word=like_contains(word)) for word in sorted(set(words)))
        await self.session.flush()
        return alert

    async def count_of(self, user_id: int) -> int:
        return int(await self.session.scalar(select(func.count(Alert.id)).where(Alert.user_id == user_id)) or 0)

    async def of_user(self, user_id: int) -> list[Alert]:
        query = select(Alert).where(Alert.user_id == user_id).order_by(Alert.created_at, Alert.id)
        return list((await self.session.execute(query)).scalars())

    async def delete(self, alert_id: int, user_id: int) -> bool:
        await self.session.execute(
            delete(AlertWord).where(
                AlertWord.alert_id.in_(select(Alert.id).where(Alert.id == alert_id, Alert.user_id == user_id))
            )
        )
        result = await self.session.execute(delete(Alert).where(Alert.id == alert_id, Alert.user_id == user_id))
        return rowcount(result) == 1

    async def mark_matching(self, ticket: Ticket, seats: int, now: datetime) -> list[int]:
        """Everyone with an alert matching the ticket (never its seller, nor a banned user, nor someone told about
        it before) -> marked told; their ids. One INSERT ... SELECT: the marks written are the people to tell."""
        name = literal(ticket.event_name_folded)
        missing_word = exists().where(AlertWord.alert_id == Alert.id, ~name.like(AlertWord.word, escape=LIKE_ESCAPE))
        told = exists().where(AlertSent.user_id == Alert.user_id, AlertSent.ticket_id == ticket.id)
        matching = (
            select(Alert.user_id, literal(ticket.id), literal(now, type_=AlertSent.__table__.c.at.type))
            .join(User, User.id == Alert.user_id)
            .where(
                Alert.user_id != ticket.seller_id,
                User.is_banned.is_(False),
                or_(Alert.event_type.is_(None), Alert.event_type == ticket.event_type),
                or_(Alert.city_id.is_(None), Alert.city_id == ticket.city_id),
                or_(Alert.event_key.is_(None), Alert.event_key == ticket.event_key),
                or_(Alert.max_price.is_(None), Alert.max_price >= ticket.price),
                Alert.seats <= seats,
                ~missing_word,
                ~told,
            )
            .distinct()
        )
        dialect = sqlite if self.session.get_bind().dialect.name == "sqlite" else postgresql
        statement = (
            dialect.insert(AlertSent)
            .from_select(["user_id", "ticket_id", "at"], matching)
            .on_conflict_do_nothing()
            .returning(AlertSent.user_id)
        )
        return sorted((await self.session.execute(statement)).scalars())

    async def users(self, user_ids: Sequence[int]) -> list[User]:
        if not user_ids:
            return []
        return list((await self.session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id))).all())
