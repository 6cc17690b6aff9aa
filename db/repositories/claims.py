"""Ownership claims ("This is my ticket") and the freeze they put on a listing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import rowcount
from db.models import Claim, ClaimStatus, Ticket, TicketStatus


class ClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, ticket_id: int, claimant_id: int, now: datetime) -> Claim:
        claim = Claim(ticket_id=ticket_id, claimant_id=claimant_id, status=ClaimStatus.OPEN, created_at=now)
        self.session.add(claim)
        await self.session.flush()
        return claim

    async def open_of(self, ticket_id: int, claimant_id: int | None = None) -> list[Claim]:
        query = select(Claim).where(Claim.ticket_id == ticket_id, Claim.status == ClaimStatus.OPEN)
        if claimant_id is not None:
            query = query.where(Claim.claimant_id == claimant_id)
        return list((await self.session.execute(query)).scalars())

    async def by_id(self, claim_id: int) -> Claim | None:
        return await self.session.get(Claim, claim_id)

    async def open_claims(self, limit: int) -> list[Claim]:
        query = select(Claim).where(Claim.status == ClaimStatus.OPEN).order_by(Claim.created_at, Claim.id)
        return list((await self.session.execute(query.limit(limit))).scalars())

    async def decide(self, claim_id: int, status: ClaimStatus) -> Claim | None:
        """The open claim decided, once: a second admin's click finds it decided (None)."""
        result = await self.session.execute(
            update(Claim)
            .where(Claim.id == claim_id, Claim.status == ClaimStatus.OPEN)
            .values(status=status)
            .returning(Claim.id)
        )
        if result.scalar_one_or_none() is None:
            return None
        return await self.session.get(Claim, claim_id, populate_existing=True)

    async def move_ticket(
        self, ticket_id: int, from_: tuple[TicketStatus, ...], to: TicketStatus, now: datetime, *, release: bool
    ) -> bool:
        """The ticket moved to `to` if it is in one of `from_`; `release` frees its barcode for the claimant."""
        values: dict[str, object] = {"status": to, "updated_at": now}
        if release:
            values["barcode_fingerprint"] = None
        result = await self.session.execute(
            update(Ticket).where(Ticket.id == ticket_id, Ticket.status.in_(from_)).values(**values)
        )
        return rowcount(result) == 1
