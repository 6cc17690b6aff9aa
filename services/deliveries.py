"""What a payment or a sweep owes people to hear, as outbox rows enqueued in its own transaction (the ticket to its
buyer, the sale to its seller, a refund to its payer, a refund task to each admin; a hold ended to its buyer, expired
listings and a released payout to their seller), and what each row's renderer reads back at send time. One dedupe
key per effect, so a payment recorded by its update and found again by the reconciler, or a sweep's change, is told
once. Nothing is queued for an account known to have blocked the bot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from db.models import Claim, Order, Payout, Refund, Ticket, User
from db.repo import Repo
from db.repositories.payouts import DisputeCase
from services import orders, outbox
from services.availability import Announcement
from services.orders import REFUND_REASONS, STARS, Outcome, PaymentResult

TICKET = "ticket"  # to the buyer: "Paid", the barcode (or the original photo alone), the photo, the details
SALE = "sale"  # to the seller: sold, what they get and when
REFUND = "refund"  # to the payer: why the payment goes back
REFUND_TASK = "refund-task"  # to an admin: a refund to do by hand
BUY_MESSAGE = "buy-message"  # to the buyer: the message they pressed Buy on, redrawn without Buy for their ticket
HOLD_ENDED = "hold-ended"  # to the buyer: the hold ran out, the ticket is back on sale
LISTINGS_EXPIRED = "listings-expired"  # to the seller: these listings went off sale as their events started
PAYOUT_RELEASED = "payout-released"  # to the seller: the escrow is over, the money is theirs
PAYOUT_PAID = "payout-paid"  # to the seller: an admin paid the payout out
DISPUTE_OPENED = "dispute-opened"  # to the seller: the buyer's words, with a button to answer them
DISPUTE_TO_ADMIN = "dispute-to-admin"  # to an admin: a dispute to decide
DISPUTE_SETTLED = "dispute-settled"  # to the buyer and to the seller: how an admin decided
MODERATED = "moderated"  # to the seller: an admin blocked or unblocked their listing
HOLD_WITHDRAWN = "hold-withdrawn"  # to a buyer: an admin's block or ban ended their hold
WAITLIST_OFFER = "waitlist-offer"  # to a waiter: the ticket is theirs to buy for a few minutes
ALERT_MATCH = "alert-match"  # to an alert's owner: a ticket it matches is on sale
FREE_AGAIN = "free-again"  # to someone who asked to be told: the ticket is back on sale
CLAIM_FILED = "claim-filed"  # to the seller: someone says the listed ticket is theirs; the listing is paused
CLAIM_TO_ADMIN = "claim-to-admin"  # to an admin: a claim to decide
CLAIM_DECIDED = "claim-decided"  # to the claimant and to the seller: how an admin decided
BLOCKED, UNBLOCKED, UNBLOCKED_EXPIRED = "blocked", "unblocked", "unblocked-expired"  # a MODERATED row's `what`


async def enqueue_payment(repo: Repo, result: PaymentResult, admin_ids: Sequence[int]) -> None:
    """The rows a recorded payment owes, in the caller's transaction. A duplicate owes nothing new."""
    if result.outcome == Outcome.SOLD:
        assert result.order is not None and result.ticket is not None
        order_id = result.order.id
        buyer = await repo.users.by_id(result.order.buyer_id)
        seller = await repo.users.by_id(result.ticket.seller_id)
        if buyer is not None:
            await outbox.enqueue(repo.session, TICKET, buyer.telegram_id, f"ticket:{order_id}", {"order_id": order_id})
        chat = result.order.buy_chat_id
        if chat is not None and result.order.buy_message_id is not None:
            await outbox.enqueue(repo.session, BUY_MESSAGE, chat, f"buy-message:{order_id}", {"order_id": order_id})
        if seller is not None:
            await outbox.enqueue(repo.session, SALE, seller.telegram_id, f"sale:{order_id}", {"order_id": order_id})
    elif result.outcome == Outcome.REFUND:
        assert result.refund is not None
        await enqueue_refund(repo, result.refund, admin_ids)


async def enqueue_refund(repo: Repo, refund: Refund, admin_ids: Sequence[int]) -> None:
    """The payer is told why the payment goes back (a dispute's refund has its own notice); a refund admins must do
    by hand (a provider payment) is a task for each of them."""
    if refund.payer_telegram_id and refund.reason in REFUND_REASONS:
        await outbox.enqueue(
            repo.session, REFUND, refund.payer_telegram_id, f"refund:{refund.id}", {"refund_id": refund.id}
        )
    if refund.currency != STARS:
        await enqueue_refund_task(repo, refund, admin_ids)


async def enqueue_refund_task(repo: Repo, refund: Refund, admin_ids: Sequence[int]) -> None:
    for admin_id in admin_ids:
        key = f"refund-task:{refund.id}:{admin_id}"
        await outbox.enqueue(repo.session, REFUND_TASK, admin_id, key, {"refund_id": refund.id})


async def enqueue_hold_ended(repo: Repo, order_id: int, buyer: User) -> None:
    if not buyer.blocked_bot:
        key = f"hold-ended:{order_id}"
        await outbox.enqueue(repo.session, HOLD_ENDED, buyer.telegram_id, key, {"order_id": order_id})


async def enqueue_listings_expired(repo: Repo, seller: User, tickets: Sequence[Ticket]) -> None:
    """One message for the listings one sweep expired at once (a listing expires once: its id keys the row)."""
    if tickets and not seller.blocked_bot:
        ids = sorted(ticket.id for ticket in tickets)
        key = f"listings-expired:{ids[0]}"
        await outbox.enqueue(repo.session, LISTINGS_EXPIRED, seller.telegram_id, key, {"ticket_ids": ids})


async def enqueue_payout_released(repo: Repo, payout: Payout, seller: User) -> None:
    if not seller.blocked_bot:
        key = f"payout-released:{payout.id}"
        await outbox.enqueue(repo.session, PAYOUT_RELEASED, seller.telegram_id, key, {"payout_id": payout.id})


async def enqueue_payout_paid(repo: Repo, payout: Payout, seller: User) -> None:
    if not seller.blocked_bot:
        key = f"payout-paid:{payout.id}"
        await outbox.enqueue(repo.session, PAYOUT_PAID, seller.telegram_id, key, {"payout_id": payout.id})


async def enqueue_dispute_opened(repo: Repo, case: DisputeCase, admin_ids: Sequence[int]) -> None:
    dispute_id = case.dispute.id
    params = {"dispute_id": dispute_id}
    await outbox.enqueue(repo.session, DISPUTE_OPENED, case.seller.telegram_id, f"dispute-opened:{dispute_id}", params)
    for admin_id in admin_ids:
        await outbox.enqueue(repo.session, DISPUTE_TO_ADMIN, admin_id, f"dispute-to-admin:{dispute_id}:{admin_id}",
                             params)  # fmt: skip


async def enqueue_dispute_settled(repo: Repo, case: DisputeCase) -> None:
    """The decision to both sides (a dispute is settled once: its id keys the rows)."""
    for side in (case.buyer, case.seller):
        key = f"dispute-settled:{case.dispute.id}:{side.telegram_id}"
        await outbox.enqueue(repo.session, DISPUTE_SETTLED, side.telegram_id, key, {"dispute_id": case.dispute.id})


async def enqueue_moderated(repo: Repo, seller: User, ticket: Ticket, what: str, reason: str, at: datetime) -> None:
    """`what`: BLOCKED, UNBLOCKED (back on sale) or UNBLOCKED_EXPIRED (its event has passed meanwhile)."""
    if not seller.blocked_bot:
        key = f"moderated:{ticket.id}:{what}:{at.isoformat()}"
        params = {"ticket_id": ticket.id, "what": what, "reason": reason}
        await outbox.enqueue(repo.session, MODERATED, seller.telegram_id, key, params)


async def enqueue_hold_withdrawn(repo: Repo, buyer: User, ticket_id: int, at: datetime) -> None:
    if not buyer.blocked_bot:
        key = f"hold-withdrawn:{ticket_id}:{buyer.id}:{at.isoformat()}"
        await outbox.enqueue(repo.session, HOLD_WITHDRAWN, buyer.telegram_id, key, {"ticket_id": ticket_id})


async def enqueue_available(repo: Repo, announcement: Announcement, offer_minutes: int, now: datetime) -> None:
    """The offers (their windows are running) and the alerts' matches an announcement made, in its transaction."""
    for offer in announcement.offers:
        if not offer.user.blocked_bot:
            key = f"offer:{offer.ticket.id}:{offer.user.id}:{offer.expires_at.isoformat()}"
            params = {"ticket_id": offer.ticket.id, "minutes": offer_minutes}
            await outbox.enqueue(repo.session, WAITLIST_OFFER, offer.user.telegram_id, key, params)
    for match in announcement.matches:
        for user in match.users:
            if not user.blocked_bot:
                key = f"alert:{match.ticket.id}:{user.id}:{now.isoformat()}"
                params = {"ticket_id": match.ticket.id}
                await outbox.enqueue(repo.session, ALERT_MATCH, user.telegram_id, key, params)


async def enqueue_free_again(repo: Repo, ticket_ids: Sequence[int], now: datetime) -> None:
    """Everyone who asked to be told these tickets are back on sale; the waits are taken (each waiter told once)."""
    for ticket, waiter in await orders.take_waiters(repo, ticket_ids):
        key = f"free-again:{ticket.id}:{waiter.id}:{now.isoformat()}"
        await outbox.enqueue(repo.session, FREE_AGAIN, waiter.telegram_id, key, {"ticket_id": ticket.id})


async def enqueue_claim_filed(repo: Repo, claim: Claim, seller: User, admin_ids: Sequence[int]) -> None:
    params = {"claim_id": claim.id}
    if not seller.blocked_bot:
        await outbox.enqueue(repo.session, CLAIM_FILED, seller.telegram_id, f"claim-filed:{claim.id}", params)
    for admin_id in admin_ids:
        await outbox.enqueue(repo.session, CLAIM_TO_ADMIN, admin_id, f"claim-to-admin:{claim.id}:{admin_id}", params)


async def enqueue_claim_decided(repo: Repo, claim: Claim, claimant: User, seller: User) -> None:
    """The decision to both sides (a claim is decided once: its id keys the rows)."""
    for side in (claimant, seller):
        if not side.blocked_bot:
            key = f"claim-decided:{claim.id}:{side.telegram_id}"
            await outbox.enqueue(repo.session, CLAIM_DECIDED, side.telegram_id, key, {"claim_id": claim.id})


# --- read back at send time ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sale:
    order: Order
    ticket: Ticket
    buyer: User
    seller: User
    payout: Payout | None


async def sale(repo: Repo, order_id: int) -> Sale | None:
    """A paid order with its ticket, both people and the seller's payout; None if any of it is gone."""
    order = await repo.orders.by_id(order_id)
    if order is None:
        return None
    ticket = await repo.orders.ticket(order.ticket_id)
    buyer = await repo.users.by_id(order.buyer_id)
    seller = await repo.users.by_id(ticket.seller_id) if ticket else None
    if ticket is None or buyer is None or seller is None:
        return None
    return Sale(order, ticket, buyer, seller, await repo.payouts.of_order(order.id))


async def refund(repo: Repo, refund_id: int) -> Refund | None:
    return await repo.orders.refund(refund_id)


async def language_of(repo: Repo, telegram_id: int) -> str:
    user = await repo.users.by_telegram_id(telegram_id)
    return user.language if user else "en"


async def tickets(repo: Repo, ticket_ids: Sequence[int]) -> list[Ticket]:
    """The tickets, in event order (those gone from the database left out)."""
    return sorted(await repo.listings.tickets(ticket_ids), key=lambda ticket: (ticket.event_at, ticket.id))


async def ticket_of_order(repo: Repo, order_id: int) -> Ticket | None:
    order = await repo.orders.by_id(order_id)
    return await repo.orders.ticket(order.ticket_id) if order else None


async def released(repo: Repo, payout_id: int) -> tuple[Payout, Ticket] | None:
    """A payout with its ticket; None if either is gone."""
    payout = await repo.payouts.by_id(payout_id)
    ticket = await ticket_of_order(repo, payout.order_id) if payout else None
    return (payout, ticket) if payout and ticket else None


async def dispute(repo: Repo, dispute_id: int) -> DisputeCase | None:
    cases = await repo.payouts.cases(dispute_ids=[dispute_id])
    return cases[0] if cases else None


async def ticket(repo: Repo, ticket_id: int) -> Ticket | None:
    return await repo.orders.ticket(ticket_id)


async def claim(repo: Repo, claim_id: int) -> tuple[Claim, Ticket] | None:
    """A claim with the ticket it is about; None if either is gone."""
    found = await repo.claims.by_id(claim_id)
    ticket = await repo.orders.ticket(found.ticket_id) if found else None
    return (found, ticket) if found and ticket else None


async def account(repo: Repo, user_id: int) -> User | None:
    return await repo.users.by_id(user_id)
