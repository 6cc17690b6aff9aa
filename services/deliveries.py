"""What a payment owes people to hear, as outbox rows enqueued in the payment's own transaction (the ticket to its
buyer, the sale to its seller, a refund to its payer, a refund task to each admin), and what each row's renderer
reads back at send time. One dedupe key per effect, so a payment recorded by its update and found again by the
reconciler is told once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from db.models import Order, Payout, Refund, Ticket, User
from db.repo import Repo
from services import outbox
from services.orders import REFUND_REASONS, STARS, Outcome, PaymentResult

TICKET = "ticket"  # to the buyer: "Paid", the barcode (or the original photo alone), the photo, the details
SALE = "sale"  # to the seller: sold, what they get and when
REFUND = "refund"  # to the payer: why the payment goes back
REFUND_TASK = "refund-task"  # to an admin: a refund to do by hand
BUY_MESSAGE = "buy-message"  # to the buyer: the message they pressed Buy on, redrawn without Buy for their ticket
KINDS = (TICKET, SALE, REFUND, REFUND_TASK, BUY_MESSAGE)


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
