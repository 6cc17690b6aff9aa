"""The audit log of admin actions: who did what to which target, when and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        admin_telegram_id: int,
        action: str,
        target_type: str,
        target_id: int,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        await self.session.execute(
            insert(AuditEntry).values(
                admin_telegram_id=admin_telegram_id,
                action=action,
                target_type=target_type,
                target_id=target_id,
                reason=reason,
                at=at,
            )
        )

    async def of_targets(self, targets: Sequence[tuple[str, int]], limit: int) -> list[AuditEntry]:
        """The latest audit entries about these targets, oldest first."""
        if not targets:
            return []
        query = (
            select(AuditEntry)
            .where(or_(*(and_(AuditEntry.target_type == kind, AuditEntry.target_id == id_) for kind, id_ in targets)))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        return list(reversed((await self.session.execute(query)).scalars().all()))
