"""The fair waiting list for hot events: when an event has more waiters than tickets on sale, a ticket that becomes
available is offered to the waiters in the order they joined, one at a time, each with an exclusive claim window
(OFFER_MINUTES); unclaimed it passes to the next, and when nobody is left, to the public feed (and the alerts). The
ticket stays on sale for its seller the whole time: only Buy asks `may_buy`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from db.models import Ticket, TicketStatus, User
from db.repo import Repo


async def join(repo: Repo, now: datetime, user: User, event_key: str) -> None:
    """The user joins an event's waiting list (at its end; joining again keeps the place)."""
    await repo.waitlist.join(event_key, user.id, now)


async def leave(repo: Repo, user: User, event_key: str) -> bool:
    return await repo.waitlist.leave(event_key, user.id)


@dataclass(frozen=True)
class Offer:
    ticket: Ticket
    user: User
    expires_at: datetime


async def _offer(repo: Repo, now: datetime, ticket: Ticket, offer_minutes: int) -> Offer | None:
    user_id = await repo.waitlist.next_waiter(ticket, now)
    if user_id is None:
        return None
    expires_at = now + timedelta(minutes=offer_minutes)
    await repo.waitlist.add_offer(ticket.id, user_id, now, expires_at)
    user = await repo.users.by_id(user_id)
    assert user is not None
    return Offer(ticket, user, expires_at)


@dataclass(frozen=True)
class Released:
    offers: list[Offer] = field(default_factory=list)  # tell each offeree: theirs to buy until expires_at
    public: list[Ticket] = field(default_factory=list)  # nobody (left) to offer to: now everyone's; run the alerts


async def on_available(repo: Repo, now: datetime, tickets: Sequence[Ticket], offer_minutes: int) -> Released:
    """Tickets just published or back on sale: each goes to the next waiter when its event has more waiters than
    tickets on sale, else straight to the public."""
    released = Released()
    for ticket in tickets:
        key = ticket.event_key
        hot = key is not None and await repo.waitlist.count(key) > await repo.waitlist.on_sale(key, now)
        await _hand_on(repo, now, ticket, offer_minutes, released, to_waiters=hot)
    return released


async def _hand_on(
    repo: Repo, now: datetime, ticket: Ticket, offer_minutes: int, released: Released, *, to_waiters: bool
) -> None:
    """The ticket to the next waiter when there is one (and `to_waiters`), else to the public."""
    offer = await _offer(repo, now, ticket, offer_minutes) if to_waiters else None
    if offer is not None:
        released.offers.append(offer)
    else:
        released.public.append(ticket)


async def pass_on(repo: Repo, now: datetime, offer_minutes: int) -> Released:
    """The sweep: offers whose window closed unclaimed -> passed (one UPDATE); each of their tickets still on sale
    goes to the next waiter, or to the public when none is left. Safe on several instances: the offers one call
    passes are its own."""
    released = Released()
    for ticket in await repo.waitlist.tickets(await repo.waitlist.pass_expired(now)):
        if ticket.status == TicketStatus.ACTIVE and ticket.event_at > now:
            await _hand_on(repo, now, ticket, offer_minutes, released, to_waiters=True)
    return released


async def may_buy(repo: Repo, ticket_id: int, user: User, now: datetime) -> bool:
    """Whether Buy may hold this ticket for `user` now: anyone once the ticket is public; while it is offered, only
    its offeree, within the window. (Between a window's end and the sweep, nobody: the next waiter comes first.)"""
    offers = await repo.waitlist.open_offers(ticket_id)
    if not offers:
        return True
    return any(offer.user_id == user.id and offer.expires_at > now for offer in offers)


async def claimed(repo: Repo, ticket: Ticket, buyer: User) -> None:
    """The ticket was sold: its offers end, and its buyer leaves the event's waiting list."""
    await repo.waitlist.close_offers([ticket.id])
    if ticket.event_key is not None:
        await repo.waitlist.leave(ticket.event_key, buyer.id)
