"""A ticket became available (published, back on sale, or passed on by a waiter who did not claim it): the waiting
list comes first (services.waitlist), and whatever goes to the public is matched against the saved searches
(services.alerts). Plain values back: who is offered what, and who to tell about which ticket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from db.models import Ticket, User
from db.repo import Repo
from services import alerts, waitlist
from services.rules import WaitlistRules
from services.waitlist import Offer, Released


@dataclass(frozen=True)
class Match:
    ticket: Ticket
    users: list[User]  # their alerts match the ticket; each is marked told about it


@dataclass(frozen=True)
class Announcement:
    offers: list[Offer] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.offers and not any(match.users for match in self.matches)


async def _announce(repo: Repo, now: datetime, released: Released) -> Announcement:
    matches = [Match(ticket, await alerts.to_tell(repo, now, ticket)) for ticket in released.public]
    return Announcement(released.offers, [match for match in matches if match.users])


async def available(repo: Repo, rules: WaitlistRules, now: datetime, tickets: Sequence[Ticket]) -> Announcement:
    """Tickets just published or back on sale."""
    return await _announce(repo, now, await waitlist.on_available(repo, now, tickets, rules.offer_minutes))


async def back_on_sale(repo: Repo, rules: WaitlistRules, now: datetime, ticket_ids: Sequence[int]) -> Announcement:
    return await available(repo, rules, now, await repo.waitlist.tickets(ticket_ids))


async def pass_on(repo: Repo, rules: WaitlistRules, now: datetime) -> Announcement:
    """The sweep: offers whose window closed go to the next waiter, or to the public."""
    return await _announce(repo, now, await waitlist.pass_on(repo, now, rules.offer_minutes))
