"""What time does by itself (DESIGN flow 6), as rules the scheduler runs every SWEEP_INTERVAL_SECONDS and once at
start-up (so hours of downtime are caught up at once):

- listings: tickets on sale whose event has started -> expired (the brief's markTicketAsOutdated, done by time);
- holds: pending orders past their hold -> expired, and their tickets (a together-group's every seat) back on sale
  (services.orders.expire_hold);
- escrow: held payouts past their release time -> released (a dispute has frozen its payout, so a disputed payout is
  never held and never released here), for the payout gateway.

Each is one set-based UPDATE ... RETURNING per state change, with its history or ledger rows written in bulk and
the notices it owes people queued in the outbox (services/deliveries.py), in the caller's transaction. Idempotent:
a second run finds nothing due. Safe with several bot instances: the rows a call returns are the rows it changed, so
whoever is told is told once. Time is `now`, from the injected clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from db.models import Payout, Ticket, TicketStatus
from db.repo import Repo
from services import deliveries, orders, payouts, relay

LISTING_EXPIRED = "event started"


async def expire_listings(repo: Repo, now: datetime) -> list[Ticket]:
    """Active tickets whose event has started -> expired, with their history rows; the tickets this call expired."""
    ticket_ids = await repo.listings.expire_listings(now)
    await repo.history.record(ticket_ids, TicketStatus.EXPIRED, actor="system", at=now, reason=LISTING_EXPIRED)
    await relay.close_for_tickets(repo, ticket_ids, relay.CloseReason.EXPIRED, now)
    tickets = await repo.listings.tickets(ticket_ids)
    sellers = await repo.users.by_ids(sorted({ticket.seller_id for ticket in tickets}))
    for seller_id, own in groupby(sorted(tickets, key=lambda t: (t.seller_id, t.id)), lambda t: t.seller_id):
        await deliveries.enqueue_listings_expired(repo, sellers[seller_id], list(own))
    return tickets


@dataclass(frozen=True)
class EndedHold:
    order_id: int
    buyer_id: int
    ticket: Ticket


@dataclass(frozen=True)
class HoldSweep:
    ended: list[EndedHold]  # the holds this call ended, with their tickets as they are now
    reopened: list[int]  # the tickets back on sale whose event is still ahead: people waiting for them may buy


async def expire_holds(repo: Repo, now: datetime) -> HoldSweep:
    """Every hold past its time ends (services.orders.expire_hold); with the tickets, for telling the buyers."""
    expired = await orders.expire_hold(repo, now)
    lapsed, reopened = expired.lapsed, expired.reopened
    due = sorted({h.ticket_id for h in lapsed} | set(reopened))  # a together-group's every seat is reopened
    tickets = {ticket.id: ticket for ticket in await repo.listings.tickets(due)}
    ended = [EndedHold(hold.order_id, hold.buyer_id, tickets[hold.ticket_id]) for hold in lapsed]
    buyers = await repo.users.by_ids(sorted({hold.buyer_id for hold in ended}))
    for hold in ended:
        await deliveries.enqueue_hold_ended(repo, hold.order_id, buyers[hold.buyer_id])
    return HoldSweep(ended, [ticket_id for ticket_id in reopened if tickets[ticket_id].event_at > now])


@dataclass(frozen=True)
class Release:
    payout: Payout
    ticket: Ticket


async def release_escrow(repo: Repo, now: datetime) -> list[Release]:
    """Held payouts whose release time has come -> released, with their ledger rows (services.payouts); each with
    its ticket, for telling the seller."""
    released = await payouts.release_due(repo, now)
    tickets = await repo.orders.tickets_of_orders([payout.order_id for payout in released])
    sellers = await repo.users.by_ids(sorted({payout.seller_id for payout in released}))
    for payout in released:
        await deliveries.enqueue_payout_released(repo, payout, sellers[payout.seller_id])
    return [Release(payout, tickets[payout.order_id]) for payout in released]
