"""The admins' rules: marketplace figures, the expired-ticket list (the brief's getOutdatedTicketList), a ticket's
full card, moderation and bans. Every admin action is an audit row (who, what, when, why) in the same transaction.

Moderation decisions:
- block: a ticket on sale leaves the feed at once; a reserved ticket's pending order is cancelled too (the buyer
  has not paid: the invoice then fails its pre-checkout, and the buyer is told). A sold ticket can't be blocked:
  its money is in escrow and the way to undo a sale is a dispute (/disputes). Expired and withdrawn tickets are not
  on sale, so there is nothing to block.
- unblock: back on sale if the event is still ahead, otherwise expired.
- ban: the account is refused everything (AccessMiddleware); its tickets on sale or reserved are blocked, pending
  orders on them and the pending orders the user placed are cancelled (tickets the user was holding go back on
  sale). Sold tickets and their payouts are left to disputes. Admins can't be banned.
- unban: the account works again; its blocked tickets stay blocked until an admin unblocks each (/ticket ID),
  since a ban usually means the listings were bad."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from db.models import AuditEntry, Order, OrderStatus, Ticket, TicketStatus, TicketStatusChange, User
from db.repo import Repo
from db.repositories.listings import OutdatedKey, TicketCard
from db.repositories.orders import Sales
from services import relay
from services.accounts import CONTROL_CHARS, normalise_phone
from services.errors import DomainError

STATS_ZONE = ZoneInfo("Europe/Moscow")  # "today" is the marketplace's day, Moscow time
OUTDATED_PAGE_SIZE = 10
REASON_MAX = 255
AUDIT_SHOWN = 20
USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


# Every code a refusal here can carry (each has a text in admin.po).
ERROR_CODES = (
    "admin-page-invalid",
    "admin-page-missing",
    "admin-ticket-unknown",
    "admin-block-not-on-sale",
    "admin-unblock-not-blocked",
    "admin-reason-empty",
    "admin-reason-invalid",
    "admin-user-unknown",
    "admin-ban-admin",
    "admin-already-banned",
    "admin-not-banned",
)


def admin_actor(admin_telegram_id: int) -> str:
    return f"admin:{admin_telegram_id}"


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def clean_reason(text: str | None) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        raise DomainError("admin-reason-empty")
    if CONTROL_CHARS.search(reason):
        raise DomainError("admin-reason-invalid")
    return reason[:REASON_MAX]


# --- figures -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    users: int
    on_sale: int
    today: Sales
    week: Sales
    all_time: Sales
    open_disputes: int
    payouts_due: Sales


async def stats(repo: Repo, now: datetime) -> Stats:
    """Today is since midnight Moscow time; the 7 days are today and the 6 days before it."""
    midnight = now.astimezone(STATS_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return Stats(
        users=await repo.users.count(),
        on_sale=await repo.listings.count_on_sale(now),
        today=await repo.orders.sales(midnight),
        week=await repo.orders.sales(midnight - timedelta(days=6)),
        all_time=await repo.orders.sales(None),
        open_disputes=await repo.payouts.count_open_disputes(),
        payouts_due=await repo.payouts.payouts_due(),
    )


# --- expired tickets -----------------------------------------------------------------------------------------
def parse_page(text: str | None) -> int:
    """The page number of "/outdated [page]": 1 when absent."""
    if not text or not text.strip():
        return 1
    value = text.strip()
    if not _digits(value) or not 1 <= int(value) <= 100_000:
        raise DomainError("admin-page-invalid")
    return int(value)


@dataclass(frozen=True)
class OutdatedPage:
    number: int
    tickets: list[Ticket]
    has_newer: bool  # a previous page (later events)
    has_older: bool  # a next page (earlier events)

    @property
    def first(self) -> OutdatedKey:
        return key_of(self.tickets[0])

    @property
    def last(self) -> OutdatedKey:
        return key_of(self.tickets[-1])


def key_of(ticket: Ticket) -> OutdatedKey:
    return OutdatedKey(ticket.event_at, ticket.id)


async def outdated(
    repo: Repo,
    number: int = 1,
    *,
    after: OutdatedKey | None = None,
    before: OutdatedKey | None = None,
    size: int = OUTDATED_PAGE_SIZE,
) -> OutdatedPage:
    """A page of expired tickets, latest event first. Buttons walk by keyset (`after` the last ticket shown, or
    `before` the first); "/outdated N" finds where page N starts once, then it is keyset too."""
    if before is not None:
        tickets = await repo.listings.outdated_before(before, size)
        if len(tickets) == size and number > 1:
            return OutdatedPage(number, tickets, has_newer=True, has_older=True)
        number, after = 1, None  # back at the top (the list may have moved meanwhile)
    elif after is None and number > 1:
        after = await repo.listings.outdated_key_at((number - 1) * size - 1)
        if after is None:
            raise DomainError("admin-page-missing")
    rows = await repo.listings.outdated_after(after, size + 1)
    if not rows and number > 1:
        raise DomainError("admin-page-missing")
    return OutdatedPage(number, rows[:size], has_newer=number > 1, has_older=len(rows) > size)


# --- a ticket ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketFile:
    card: TicketCard
    history: list[TicketStatusChange]
    audit: list[AuditEntry]  # about the ticket and about its seller


async def ticket_file(repo: Repo, ticket_id: int) -> TicketFile:
    card = await repo.listings.card(ticket_id)
    if card is None:
        raise DomainError("admin-ticket-unknown")
    history = await repo.history.of_ticket(ticket_id)
    audit = await repo.audit.of_targets([("ticket", ticket_id), ("user", card.seller.id)], AUDIT_SHOWN)
    return TicketFile(card, history, audit)


def parse_ticket_id(text: str | None) -> int:
    value = (text or "").strip().lstrip("#")
    if not _digits(value) or not 1 <= int(value) < 2**31:
        raise DomainError("admin-ticket-unknown")
    return int(value)


# --- moderation ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moderation:
    ticket: Ticket
    seller: User
    reason: str
    cancelled: Order | None = None  # a buyer's hold the block ended
    buyer: User | None = None


async def block_ticket(repo: Repo, now: datetime, admin_id: int, ticket_id: int, reason_text: str) -> Moderation:
    reason = clean_reason(reason_text)
    card = await repo.listings.card(ticket_id)
    if card is None:
        raise DomainError("admin-ticket-unknown")
    cancelled: Order | None = None
    if card.ticket.status == TicketStatus.RESERVED:
        cancelled = await repo.orders.pending_order_of(ticket_id)
        pending = [OrderStatus.PENDING]
        if cancelled is not None and not await repo.orders.move(cancelled.id, pending, OrderStatus.CANCELLED):
            cancelled = None  # paid or expired a moment ago: the ticket move below decides
    blockable = [TicketStatus.ACTIVE, TicketStatus.RESERVED]
    if not await repo.listings.move(ticket_id, blockable, TicketStatus.BLOCKED, now, reason):
        raise DomainError("admin-block-not-on-sale")
    await repo.history.record([ticket_id], TicketStatus.BLOCKED, actor=admin_actor(admin_id), at=now, reason=reason)
    await relay.close_for_tickets(repo, [ticket_id], relay.CloseReason.BLOCKED_TICKET, now)
    await repo.audit.record(admin_id, "ticket_block", "ticket", ticket_id, now, reason)
    buyer = await repo.users.by_id(cancelled.buyer_id) if cancelled else None
    return Moderation(await _fresh(repo, ticket_id), card.seller, reason, cancelled, buyer)


async def unblock_ticket(repo: Repo, now: datetime, admin_id: int, ticket_id: int, reason_text: str) -> Moderation:
    reason = clean_reason(reason_text)
    card = await repo.listings.card(ticket_id)
    if card is None:
        raise DomainError("admin-ticket-unknown")
    status = TicketStatus.ACTIVE if card.ticket.event_at > now else TicketStatus.EXPIRED
    if not await repo.listings.move(ticket_id, [TicketStatus.BLOCKED], status, now, None):
        raise DomainError("admin-unblock-not-blocked")
    await repo.history.record([ticket_id], status, actor=admin_actor(admin_id), at=now, reason=reason)
    await repo.audit.record(admin_id, "ticket_unblock", "ticket", ticket_id, now, reason)
    return Moderation(await _fresh(repo, ticket_id), card.seller, reason)


async def _fresh(repo: Repo, ticket_id: int) -> Ticket:
    ticket = await repo.orders.ticket(ticket_id)
    assert ticket is not None
    return ticket


# --- bans ----------------------------------------------------------------------------------------------------
async def find_user(repo: Repo, text: str | None) -> User:
    """By Telegram id (digits), @username or phone (+7..., or digits that are no Telegram id we know)."""
    value = (text or "").strip()
    user: User | None = None
    if _digits(value) and len(value) <= 18:
        user = await repo.users.by_telegram_id(int(value))
    elif (match := USERNAME.match(value)) is not None:
        user = await repo.users.by_username(match.group(1))
    if user is None and value and not value.startswith("@"):
        try:
            user = await repo.users.by_phone(normalise_phone(value))
        except DomainError:
            user = None
    if user is None:
        raise DomainError("admin-user-unknown")
    return user


@dataclass(frozen=True)
class Ban:
    user: User
    blocked: list[int]  # the user's tickets this ban blocked
    released_holds: list[tuple[int, User]]  # (ticket id, buyer) of other people's holds on them, cancelled
    reopened: list[int]  # tickets the user was holding, back on sale


async def ban(repo: Repo, now: datetime, admin_id: int, admin_ids: list[int], target: str, reason_text: str) -> Ban:
    reason = clean_reason(reason_text)
    user = await find_user(repo, target)
    if user.telegram_id in admin_ids:
        raise DomainError("admin-ban-admin")
    if not await repo.users.set_banned(user.id, True):
        raise DomainError("admin-already-banned")
    cancelled = await repo.orders.cancel_orders_of(user.id)
    blocked = await repo.listings.block_listings_of(user.id, now, reason)
    actor = admin_actor(admin_id)
    await repo.history.record(blocked, TicketStatus.BLOCKED, actor=actor, at=now, reason=reason)
    held_by_user = [ticket_id for _, ticket_id, buyer_id in cancelled if buyer_id == user.id]
    reopened = await repo.listings.reopen(held_by_user, now)
    await repo.history.record(reopened, TicketStatus.ACTIVE, actor=actor, at=now, reason="buyer banned")
    await repo.audit.record(admin_id, "user_ban", "user", user.id, now, reason)
    others = await repo.users.by_ids([buyer_id for _, _, buyer_id in cancelled if buyer_id != user.id])
    held = [(ticket_id, others[buyer_id]) for _, ticket_id, buyer_id in cancelled if buyer_id != user.id]
    return Ban(await _fresh_user(repo, user.id), blocked, held, reopened)


async def unban(repo: Repo, now: datetime, admin_id: int, target: str, reason_text: str | None) -> User:
    user = await find_user(repo, target)
    if not await repo.users.set_banned(user.id, False):
        raise DomainError("admin-not-banned")
    reason = " ".join((reason_text or "").split())[:REASON_MAX] or None
    await repo.audit.record(admin_id, "user_unban", "user", user.id, now, reason)
    return await _fresh_user(repo, user.id)


async def _fresh_user(repo: Repo, user_id: int) -> User:
    user = await repo.users.current(user_id)
    assert user is not None
    return user
