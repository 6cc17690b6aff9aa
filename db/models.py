"""SQLAlchemy 2 typed models: the whole schema. Every change here needs an Alembic migration."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so naive UTC is stored)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(
        cls, native_enum=False, length=16, validate_strings=True, values_callable=lambda e: [m.value for m in e]
    )


class EventType(enum.StrEnum):
    CONCERT = "concert"
    THEATRE = "theatre"
    STANDUP = "standup"
    SPORT = "sport"
    FESTIVAL = "festival"
    CINEMA = "cinema"
    OTHER = "other"


class TicketStatus(enum.StrEnum):
    ACTIVE = "active"
    RESERVED = "reserved"
    SOLD = "sold"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    BLOCKED = "blocked"
    FROZEN = "frozen"  # under an ownership claim: off the feed, not buyable, until an admin decides


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class PayoutStatus(enum.StrEnum):
    HELD = "held"
    RELEASED = "released"
    PAID = "paid"
    FROZEN = "frozen"
    CANCELLED = "cancelled"


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    REFUNDED = "refunded"
    RELEASED = "released"


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    full_name: Mapped[str] = mapped_column(String(128))
    first_name: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    is_banned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column()
    # Paid orders of this user's tickets, kept by database triggers on orders (migration 0006): the feed's cards
    # read it instead of counting.
    completed_sales: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class FsmRecord(Base):
    """aiogram FSM state and data for one storage key, so a wizard survives a restart."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FeedVersion(Base):
    """One row whose number grows with every committed change to what a feed page shows (tickets, listing groups,
    the sellers' names, sales, ratings and lost disputes), kept by database triggers (migration 0010): a page kept in
    memory is good while the number it was read at is still the number (services.kept_pages.cached_page)."""

    __tablename__ = "feed_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The name last: a search by name scans this index alone, never the rows (a rare word at 1M: 394 -> 150 ms).
        Index("ix_tickets_feed", "status", "created_at", "id", "event_name_folded"),
        Index("ix_tickets_feed_type", "status", "event_type", "created_at", "id"),
        Index("ix_tickets_feed_city", "status", "city_id", "created_at", "id"),
        Index("ix_tickets_status_event_at", "status", "event_at"),
        Index("ix_tickets_seller", "seller_id", "status", "created_at"),
        Index("ix_tickets_event", "event_key", "status", "price", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_name: Mapped[str] = mapped_column(String(120))
    event_name_folded: Mapped[str] = mapped_column(String(120))  # casefolded, ё->е: search on any backend
    event_type: Mapped[EventType] = mapped_column(_enum(EventType))
    city_id: Mapped[int] = mapped_column(Integer)
    city_name: Mapped[str] = mapped_column(String(120))
    city_tz: Mapped[str] = mapped_column(String(64))
    venue: Mapped[str] = mapped_column(String(120))
    event_at: Mapped[datetime] = mapped_column()
    seat_section: Mapped[str | None] = mapped_column(String(30))
    seat_row: Mapped[str | None] = mapped_column(String(30))
    seat_number: Mapped[str | None] = mapped_column(String(30))
    standing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    face_value: Mapped[int] = mapped_column(Integer)  # major units of `currency`
    price: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    barcode_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    barcode_format: Mapped[str] = mapped_column(String(16))
    barcode_fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)
    photo_key: Mapped[str] = mapped_column(String(64))
    photo_phash: Mapped[str] = mapped_column(String(16))
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus), default=TicketStatus.ACTIVE)
    block_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    sold_at: Mapped[datetime | None] = mapped_column()
    # The event this listing belongs to (services.events.event_key): folded name, city and local date and time.
    event_key: Mapped[str | None] = mapped_column(String(32))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("listing_groups.id"), index=True)
    # What the seller sent (services.ticket_upload.DocumentKind: photo, pdf, pass), stored under photo_key, and the
    # PDF's page the barcode came from: the buyer gets that page or the pass itself.
    document_kind: Mapped[str] = mapped_column(String(8), default="photo", server_default="photo")
    document_page: Mapped[int | None] = mapped_column(Integer)

    seller: Mapped[User] = relationship(foreign_keys=[seller_id], lazy="raise")


class TicketStatusChange(Base):
    """Status history of a ticket, shown to admins in /ticket ID."""

    __tablename__ = "ticket_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus))
    actor: Mapped[str] = mapped_column(String(32))  # seller | buyer | system | admin:<telegram id>
    reason: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column()


class TicketWaiter(Base):
    """A buyer who asked to be told when a reserved ticket is back on sale."""

    __tablename__ = "ticket_waiters"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column()


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_expires_at", "status", "expires_at"),
        # The last line of defence: one paid order per ticket, whatever the code above does.
        Index(
            "uq_orders_paid_ticket",
            "ticket_id",
            unique=True,
            sqlite_where=text("status = 'paid'"),
            postgresql_where=text("status = 'paid'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)  # smallest unit of `currency` (XTR: stars)
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    paid_at: Mapped[datetime | None] = mapped_column()
    telegram_payment_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    provider_payment_charge_id: Mapped[str | None] = mapped_column(String(255))
    # The buyer's message Buy was pressed on (a feed page, an event page, a card), redrawn once the ticket is
    # theirs: its chat and id, and what it showed (handlers/buy/pages.py reads `buy_view`).
    buy_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    buy_message_id: Mapped[int | None] = mapped_column(BigInteger)
    buy_view: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Payout(Base):
    __tablename__ = "payouts"
    __table_args__ = (Index("ix_payouts_status_release_at", "status", "release_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PayoutStatus] = mapped_column(_enum(PayoutStatus), default=PayoutStatus.HELD)
    release_at: Mapped[datetime] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()
    paid_at: Mapped[datetime | None] = mapped_column()
    gateway_reference: Mapped[str | None] = mapped_column(String(128))


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    buyer_text: Mapped[str] = mapped_column(Text)
    seller_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(_enum(DisputeStatus), default=DisputeStatus.OPEN, index=True)
    opened_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)  # admin telegram id


class Refund(Base):
    """A payment owed back to its payer: done at once for Stars, an admin task for provider payments. One row per
    payment (its Telegram charge id), so an order may have several (a double payment bounced, then a dispute), and a
    payment for no known order has one too."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    telegram_payment_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    provider_payment_charge_id: Mapped[str | None] = mapped_column(String(255))
    payer_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(64))
    status: Mapped[RefundStatus] = mapped_column(_enum(RefundStatus), default=RefundStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    done_by: Mapped[int | None] = mapped_column(BigInteger)


class LedgerEntry(Base):
    """Append-only money journal: every change of money is one row, never updated or deleted."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # payment | escrow_hold | escrow_release | exchange | payout | refund
    account: Mapped[str] = mapped_column(String(32))  # buyer | escrow | exchange | seller | platform | gateway
    amount: Mapped[int] = mapped_column(Integer)  # signed, smallest unit
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column()


class AuditEntry(Base):
    """Who did what as an admin, when and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_telegram_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column()

    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)


class PhotoHashBand(Base):
    """One of the 8 bands (8 bits each) of a ticket photo's 64-bit perceptual hash. Two hashes within Hamming
    distance d <= 7 agree on at least 8 - d whole bands, so near-duplicate photos are found through the (band, value)
    index (covering: it holds ticket_id too) without reading every hash."""

    __tablename__ = "photo_hash_bands"
    __table_args__ = (Index("ix_photo_hash_bands_lookup", "band", "value", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until next_attempt_at (its lease); then anyone may claim it again
    SENT = "sent"
    DEAD = "dead"  # its attempts ran out or Telegram refused it for good: admins see it and may retry it


class OutboxMessage(Base):
    """Something that must reach a person, written in the same transaction as the state change it tells of and
    sent by the outbox worker. It carries a kind and plain ids (never a secret: the barcode is opened at send time);
    `steps_done` counts the Bot API calls of the delivery already accepted, so a retry resumes after them."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries (5xx, network, a renderer's error)
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))  # whose lease: only its holder may move the row
    next_attempt_at: Mapped[datetime] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()


class ReconcileFinding(Base):
    """What a reconciliation with Telegram's own payment record found and did about one charge: a sale recorded,
    a refund recorded or completed, a refund Telegram refused. One row per (charge, kind), so several instances
    (or a second run) record a finding once."""

    __tablename__ = "reconcile_findings"
    __table_args__ = (Index("uq_reconcile_findings_charge_kind", "charge_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    detail: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column()


# --- issue 12: talk and find ----------------------------------------------------------------------------------
class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class GroupMode(enum.StrEnum):
    TOGETHER = "together"  # adjacent seats: one price, one hold, one order, never sold in part
    SEPARATELY = "separately"  # listed together, each ticket sold on its own


class ListingGroup(Base):
    """2-8 tickets of one event listed at once by one seller."""

    __tablename__ = "listing_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    mode: Mapped[GroupMode] = mapped_column(_enum(GroupMode))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column()


class Conversation(Base):
    """An anonymous relay between a ticket's seller and one buyer, through the bot."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("uq_conversations_ticket_buyer", "ticket_id", "buyer_id", unique=True),
        Index("ix_conversations_buyer", "buyer_id", "last_at"),
        Index("ix_conversations_seller", "seller_id", "last_at"),
        Index("ix_conversations_ticket_status", "ticket_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ConversationStatus] = mapped_column(_enum(ConversationStatus), default=ConversationStatus.OPEN)
    closed_reason: Mapped[str | None] = mapped_column(String(16))  # buyer | seller | sold | expired | withdrawn | ...
    created_at: Mapped[datetime] = mapped_column()
    last_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()


class RelayMessage(Base):
    """What one side sent, as relayed (masked), kept for disputes until the retention period ends."""

    __tablename__ = "relay_messages"
    __table_args__ = (
        Index("ix_relay_messages_conversation", "conversation_id", "id"),
        Index("ix_relay_messages_sender", "sender_id", "created_at"),
        Index("ix_relay_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    masked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column()


class RelayRoute(Base):
    """A message the bot delivered in a relay: a reply to it goes back into its conversation."""

    __tablename__ = "relay_routes"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()


class UserBlock(Base):
    """`blocker` will not talk to `blocked` again: neither can open a conversation with the other."""

    __tablename__ = "user_blocks"

    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column()


class Alert(Base):
    """A saved search: tell the user when a matching ticket is published or back on sale."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    event_type: Mapped[EventType | None] = mapped_column(_enum(EventType))
    city_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(String(60))  # as typed, for /alerts
    event_key: Mapped[str | None] = mapped_column(String(32), index=True)
    max_price: Mapped[int | None] = mapped_column(Integer)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column()


class AlertWord(Base):
    """One folded word of an alert's text, LIKE-escaped: a ticket matches when its name contains every word."""

    __tablename__ = "alert_words"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    word: Mapped[str] = mapped_column(String(130), primary_key=True)  # a LIKE pattern: %word%, escaped


class AlertSent(Base):
    """A user was told about a ticket: never twice, whatever alerts match it."""

    __tablename__ = "alerts_sent"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column()


class EventWaiter(Base):
    """A place in an event's waiting list; `id` is the join order."""

    __tablename__ = "event_waiters"
    __table_args__ = (Index("uq_event_waiters_event_user", "event_key", "user_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column()


class TicketOffer(Base):
    """A ticket offered to one waiter, exclusively until `expires_at`. One row per (ticket, waiter): nobody is
    offered the same ticket twice; `passed` marks an unclaimed offer the sweep handed on."""

    __tablename__ = "ticket_offers"
    __table_args__ = (Index("ix_ticket_offers_open", "passed", "expires_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    offered_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    passed: Mapped[bool] = mapped_column(Boolean, default=False)


class ShareCode(Base):
    """A ticket's share link code: random, so it says nothing of the ticket's id."""

    __tablename__ = "share_codes"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)


class Rating(Base):
    """The buyer's rating of a deal whose escrow released without a dispute; one per order."""

    __tablename__ = "ratings"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int] = mapped_column(Integer)
    words: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()


class ClaimStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the listing blocked; the claimant may list the ticket
    DISMISSED = "dismissed"  # the listing back on sale


class Claim(Base):
    """ "This is my ticket": a person whose barcode another seller listed first asks the admins to look."""

    __tablename__ = "claims"
    __table_args__ = (Index("ix_claims_open", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ClaimStatus] = mapped_column(_enum(ClaimStatus), default=ClaimStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column()
