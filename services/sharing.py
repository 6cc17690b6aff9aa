"""Share links: every ticket card carries https://t.me/<bot>?start=<code>, a random code that says nothing of the
ticket's id; following it opens the card (after registering, for a newcomer)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from db.models import Ticket
from db.repo import Repo
from db.repositories.trust import SellerRecord
from services.errors import DomainError

PREFIX = "t_"  # a /start payload of a share link; other payloads keep their own meaning
CODE_BYTES = 9  # 12 URL-safe characters: 72 random bits
_CODE = re.compile(r"[A-Za-z0-9_-]{12}")

ERROR_CODES = ("share-unknown",)


def code_from_start(payload: str | None) -> str | None:
    """The share code in a /start payload, or None when the payload is not a share link."""
    if payload is None or not payload.startswith(PREFIX):
        return None
    code = payload[len(PREFIX) :]
    return code if _CODE.fullmatch(code) else None


def start_payload(code: str) -> str:
    """The /start payload of a share link (at most 64 characters of A-Z a-z 0-9 _ -, as Telegram allows)."""
    return PREFIX + code


async def share_code(repo: Repo, ticket_id: int) -> str:
    """The ticket's share code, made on first use."""
    while (code := await repo.trust.code_of(ticket_id)) is None:
        await repo.trust.add_code(ticket_id, secrets.token_urlsafe(CODE_BYTES))
    return code


@dataclass(frozen=True)
class SharedCard:
    ticket: Ticket  # whatever its status: the card says when it is no longer on sale
    seller: SellerRecord


async def resolve(repo: Repo, code: str) -> SharedCard:
    ticket = await repo.trust.ticket_of_code(code)
    if ticket is None:
        raise DomainError("share-unknown")
    records = await repo.trust.records([ticket.seller_id])
    return SharedCard(ticket, records[ticket.seller_id])
