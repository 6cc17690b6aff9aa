"""The double-entry ledger: postings per order and an account's balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LedgerEntry


@dataclass(frozen=True)
class Posting:
    kind: str  # payment | escrow_hold | escrow_release | exchange | payout | refund | fee
    account: str  # buyer | escrow | exchange | seller | platform | gateway
    amount: int  # signed, smallest unit of the currency
    currency: str
    order_id: int | None = None
    payout_id: int | None = None


class LedgerRepository:
    """The append-only money journal: rows are inserted, never updated or deleted."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def post(self, postings: list[Posting], at: datetime) -> None:
        if postings:
            await self.session.execute(
                insert(LedgerEntry),
                [posting.__dict__ | {"created_at": at} for posting in postings],
            )

    async def of_order(self, order_id: int) -> list[LedgerEntry]:
        query = select(LedgerEntry).where(LedgerEntry.order_id == order_id).order_by(LedgerEntry.id)
        return list((await self.session.execute(query)).scalars())

    async def balance(self, account: str, currency: str) -> int:
        query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account == account, LedgerEntry.currency == currency
        )
        return int((await self.session.execute(query)).scalar_one())
