"""Ownership claims on SQLite and PostgreSQL: the freeze, the audit, an admin's decision taken once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import AuditEntry, ClaimStatus, TicketStatus, User
from db.repo import Repo
from services import claims
from services.errors import DomainError
from tests.factories import make_ticket, make_user

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ADMIN = 900_001
KEY = b"k" * 32


def token(user: User, ticket_id: int) -> str:
    return claims.claim_token(KEY, user.telegram_id, ticket_id)


async def test_a_claim_freezes_the_listing_and_an_upheld_one_frees_the_barcode(repo: Repo) -> None:
    scalper, owner = await make_user(repo, NOW, first_name="Scalper"), await make_user(repo, NOW, first_name="Olga")
    ticket = await make_ticket(repo, scalper, NOW)
    filed = await claims.file_claim(repo, KEY, owner, ticket.id, token(owner, ticket.id), NOW)
    assert (filed.frozen, filed.ticket.status, filed.claim.status) == (True, TicketStatus.FROZEN, ClaimStatus.OPEN)
    assert [c.id for c in await claims.open_claims(repo)] == [filed.claim.id]
    with pytest.raises(DomainError) as again:
        await claims.file_claim(repo, KEY, owner, ticket.id, token(owner, ticket.id), NOW)
    assert again.value.code == "claim-already-filed"
    with pytest.raises(DomainError) as forged:  # a button made for someone else, or for another listing
        await claims.file_claim(repo, KEY, owner, ticket.id, token(scalper, ticket.id), NOW)
    assert forged.value.code == "claim-gone"
    with pytest.raises(DomainError) as own:
        await claims.file_claim(repo, KEY, scalper, ticket.id, token(scalper, ticket.id), NOW)
    assert own.value.code == "claim-gone"

    upheld = await claims.resolve(repo, ADMIN, filed.claim.id, uphold=True, now=NOW + timedelta(hours=1))
    assert (upheld.ticket.status, upheld.ticket.barcode_fingerprint) == (TicketStatus.BLOCKED, None)
    with pytest.raises(DomainError) as twice:
        await claims.resolve(repo, ADMIN, filed.claim.id, uphold=False, now=NOW)
    assert twice.value.code == "claim-decided"
    assert await claims.open_claims(repo) == []
    audit = (await repo.session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert list(audit) == ["claim-filed", "claim-upheld"]


async def test_a_dismissed_claim_puts_the_listing_back_and_a_hold_is_left_alone(repo: Repo) -> None:
    seller, claimant = await make_user(repo, NOW), await make_user(repo, NOW)
    ticket = await make_ticket(repo, seller, NOW)
    filed = await claims.file_claim(repo, KEY, claimant, ticket.id, token(claimant, ticket.id), NOW)
    dismissed = await claims.resolve(repo, ADMIN, filed.claim.id, uphold=False, now=NOW)
    assert (dismissed.ticket.status, dismissed.ticket.barcode_fingerprint) == (
        TicketStatus.ACTIVE, ticket.barcode_fingerprint)  # fmt: skip

    held = await make_ticket(repo, seller, NOW, status=TicketStatus.RESERVED)
    on_hold = await claims.file_claim(repo, KEY, claimant, held.id, token(claimant, held.id), NOW)
    assert (on_hold.frozen, on_hold.ticket.status) == (False, TicketStatus.RESERVED)
