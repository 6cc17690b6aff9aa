"""Ownership claims: "This is my ticket" from a person whose barcode another seller listed first. The listing is
frozen while the admins look (off the feed, not buyable; a hold already running is left to finish or lapse); an
admin upholds the claim (the listing blocked, its barcode free for the claimant to list) or dismisses it (back on
sale). Every step is audited."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from db.models import Claim, ClaimStatus, Ticket, TicketStatus, User
from db.repo import Repo
from services.errors import DomainError

ACTOR = "claim"
OPEN_SHOWN = 20
TOKEN_LENGTH = 16


@dataclass(frozen=True)
class ClaimOutcome:
    claim: Claim
    ticket: Ticket
    frozen: bool  # the listing was taken off sale now (False: it was reserved, or already frozen)
    seller: User
    claimant: User


def claim_token(key: bytes, claimant_telegram_id: int, ticket_id: int) -> str:
    """What the refusal's "This is my ticket" button carries: only the person refused can claim that listing."""
    return hmac.new(key, f"claim:{claimant_telegram_id}:{ticket_id}".encode(), "sha256").hexdigest()[:TOKEN_LENGTH]


async def _ticket(repo: Repo, ticket_id: int) -> Ticket:
    ticket = await repo.orders.ticket(ticket_id)
    if ticket is None:
        raise DomainError("claim-gone")
    return ticket


async def _outcome(repo: Repo, claim: Claim, frozen: bool) -> ClaimOutcome:
    ticket = await _ticket(repo, claim.ticket_id)
    seller, claimant = await repo.users.by_id(ticket.seller_id), await repo.users.by_id(claim.claimant_id)
    assert seller is not None and claimant is not None
    return ClaimOutcome(claim, ticket, frozen, seller, claimant)


async def file_claim(repo: Repo, key: bytes, claimant: User, ticket_id: int, token: str, now: datetime) -> ClaimOutcome:
    """The claimant's claim on another seller's listing (the one their upload was refused for: `token`), once per
    person and ticket while it is open."""
    if not hmac.compare_digest(token, claim_token(key, claimant.telegram_id, ticket_id)):
        raise DomainError("claim-gone")
    ticket = await _ticket(repo, ticket_id)
    if ticket.seller_id == claimant.id or ticket.status in (TicketStatus.SOLD, TicketStatus.BLOCKED):
        raise DomainError("claim-gone")
    if await repo.claims.open_of(ticket_id, claimant.id):
        raise DomainError("claim-already-filed")
    claim = await repo.claims.add(ticket_id, claimant.id, now)
    frozen = await repo.claims.move_ticket(ticket_id, (TicketStatus.ACTIVE,), TicketStatus.FROZEN, now, release=False)
    if frozen:
        await repo.history.record([ticket_id], TicketStatus.FROZEN, actor=ACTOR, at=now)
    await repo.audit.record(claimant.telegram_id, "claim-filed", "ticket", ticket_id, now, f"claim {claim.id}")
    return await _outcome(repo, claim, frozen)


async def open_claims(repo: Repo) -> list[Claim]:
    return await repo.claims.open_claims(OPEN_SHOWN)


async def resolve(repo: Repo, admin_telegram_id: int, claim_id: int, *, uphold: bool, now: datetime) -> ClaimOutcome:
    """Decide an open claim. Upheld: the listing blocked and its barcode released (the claimant lists it);
    dismissed: the listing back on sale unless another claim on it is still open."""
    claim = await repo.claims.decide(claim_id, ClaimStatus.UPHELD if uphold else ClaimStatus.DISMISSED)
    if claim is None:
        raise DomainError("claim-decided")
    actor = f"admin:{admin_telegram_id}"
    if uphold:
        moved = await repo.claims.move_ticket(
            claim.ticket_id, (TicketStatus.FROZEN, TicketStatus.ACTIVE), TicketStatus.BLOCKED, now, release=True
        )
        status = TicketStatus.BLOCKED
    else:
        still_claimed = await repo.claims.open_of(claim.ticket_id)
        moved = not still_claimed and await repo.claims.move_ticket(
            claim.ticket_id, (TicketStatus.FROZEN,), TicketStatus.ACTIVE, now, release=False
        )
        status = TicketStatus.ACTIVE
    if moved:
        await repo.history.record([claim.ticket_id], status, actor=actor, at=now, reason=f"claim {claim.id}")
    action = "claim-upheld" if uphold else "claim-dismissed"
    await repo.audit.record(admin_telegram_id, action, "ticket", claim.ticket_id, now, f"claim {claim.id}")
    return await _outcome(repo, claim, moved)
