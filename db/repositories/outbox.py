"""The outbox's rows: enqueued once per dedupe key, claimed under a lease (FOR UPDATE SKIP LOCKED on PostgreSQL;
SQLite serialises writers), and moved on only by the holder of the claim."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import rowcount
from db.models import OutboxMessage, OutboxStatus

DUE = (OutboxStatus.PENDING, OutboxStatus.SENDING)  # a 'sending' row whose lease ran out is due again


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, Any]) -> bool:
        """Insert unless a row with this dedupe key exists; whether it was inserted."""
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        return rowcount(await self.session.execute(statement)) == 1

    async def claim(self, now: datetime, limit: int, token: str, lease_until: datetime) -> list[OutboxMessage]:
        """Take up to `limit` due rows, oldest first, for the holder of `token` until `lease_until`."""
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status.in_(DUE), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(status=OutboxStatus.SENDING, claim_token=token, next_attempt_at=lease_until)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        rows = list((await self.session.execute(statement)).scalars())
        return sorted(rows, key=lambda row: row.id)

    async def move(self, message_id: int, token: str, **values: Any) -> bool:
        """Change a claimed row, if the claim is still `token`'s (a lease that ran out may have passed it on)."""
        statement = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.claim_token == token,
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def revive(self, message_id: int, now: datetime) -> bool:
        """A dead row pending again with fresh attempts (an admin's retry)."""
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.DEAD)
            .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(statement)) == 1

    async def by_id(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id, populate_existing=True)

    async def by_key(self, dedupe_key: str) -> OutboxMessage | None:
        query = select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def dead(self, limit: int) -> list[OutboxMessage]:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.DEAD)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def counts(self) -> dict[OutboxStatus, int]:
        query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        found = {OutboxStatus(status): count for status, count in await self.session.execute(query)}
        return {status: found.get(status, 0) for status in OutboxStatus}

    async def next_due(self) -> datetime | None:
        query = select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status.in_(DUE))
        return await self.session.scalar(query)
