"""The admins' rules on SQLite and PostgreSQL: figures, the expired-ticket pages, a ticket's file, block / unblock,
bans and their cascade, the audit log; the parsers of what an admin types, with Hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import translate
from db.models import AuditEntry, OrderStatus, TicketStatus
from db.repo import Repo
from db.repositories.feed import FeedQuery
from services import admin, orders, payouts, sweeps
from services.errors import DomainError
from tests.factories import make_payment_rules, make_ticket, make_user, make_users

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)  # 12:30 in Moscow
SETTINGS = make_payment_rules()
ADMIN = 900_001


async def sell(repo: Repo, at: datetime, price: int = 1000) -> orders.PaymentResult:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW, price=price)
    hold = await orders.hold(repo, SETTINGS, at, buyer, ticket.id)
    payment = orders.Payment(hold.order.public_id, "XTR", hold.charge.total, f"charge-{ticket.id}")
    return await orders.record_payment(repo, SETTINGS, at, buyer, payment)


async def test_stats_count_today_the_week_and_all_time(repo: Repo) -> None:
    await sell(repo, NOW - timedelta(hours=12, minutes=31))  # 23:59 yesterday, Moscow time
    await sell(repo, NOW - timedelta(hours=12, minutes=29), price=2000)  # 00:01 today
    await sell(repo, NOW - timedelta(days=6, hours=12, minutes=29))  # 00:01 six days ago
    await sell(repo, NOW - timedelta(days=7))
    refunded = await sell(repo, NOW - timedelta(hours=1))
    assert refunded.order is not None
    await repo.orders.move(refunded.order.id, [OrderStatus.PAID], OrderStatus.REFUNDED)
    lone = await make_user(repo, NOW)
    await make_ticket(repo, lone, NOW)
    await make_ticket(repo, lone, NOW, event_at=NOW - timedelta(minutes=1))  # started: not on sale any more
    await sell(repo, NOW - timedelta(days=30))

    figures = await admin.stats(repo, NOW)
    assert figures.users == 13 and figures.on_sale == 1
    one = SETTINGS.stars_per_unit * 1000
    assert (figures.today.count, figures.today.turnover) == (1, {"XTR": int(one * 2)})
    assert (figures.week.count, figures.week.turnover) == (3, {"XTR": int(one * 4)})
    assert (figures.all_time.count, figures.all_time.turnover) == (5, {"XTR": int(one * 6)})
    assert (figures.payouts_due.count, figures.open_disputes) == (0, 0)
    released = await payouts.release_due(repo, NOW + timedelta(days=31))
    due = (await admin.stats(repo, NOW)).payouts_due
    assert (due.count, due.turnover) == (len(released), {"RUB": sum(p.amount for p in released)})  # owed in roubles


async def test_outdated_pages_walk_by_keyset_and_jump_by_number(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    tickets = [await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(hours=n)) for n in range(1, 24)]
    await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(days=3))  # still on sale
    await sweeps.expire_listings(repo, NOW + timedelta(days=1))
    newest_first = [t.id for t in reversed(tickets)]

    first = await admin.outdated(repo)
    assert [t.id for t in first.tickets] == newest_first[:10] and first.has_older and not first.has_newer
    second = await admin.outdated(repo, 2, after=first.last)
    assert [t.id for t in second.tickets] == newest_first[10:20] and second.has_newer and second.has_older
    third = await admin.outdated(repo, 3, after=second.last)
    assert [t.id for t in third.tickets] == newest_first[20:] and not third.has_older
    assert (await admin.outdated(repo, 2, before=third.first)).tickets == second.tickets
    back = await admin.outdated(repo, 1, before=second.first)
    assert back.tickets == first.tickets and back.number == 1 and not back.has_newer
    assert (await admin.outdated(repo, 3)).tickets == third.tickets  # "/outdated 3"
    with pytest.raises(DomainError, match="admin-page-missing"):
        await admin.outdated(repo, 4)


async def test_blocking_a_ticket_on_sale_takes_it_off_the_feed_and_unblocking_puts_it_back(repo: Repo) -> None:
    seller = await make_user(repo, NOW)
    ticket = await make_ticket(repo, seller, NOW)
    feed = FeedQuery(now=NOW)
    with pytest.raises(DomainError, match="admin-reason-empty"):
        await admin.block_ticket(repo, NOW, ADMIN, ticket.id, "   ")
    blocked = await admin.block_ticket(repo, NOW, ADMIN, ticket.id, "  Fake   barcode ")
    assert blocked.ticket.status == TicketStatus.BLOCKED and blocked.ticket.block_reason == "Fake barcode"
    assert blocked.seller.id == seller.id and blocked.cancelled is None
    assert await repo.feed.older(feed, None, 10) == []
    with pytest.raises(DomainError, match="admin-block-not-on-sale"):  # a double click
        await admin.block_ticket(repo, NOW, ADMIN, ticket.id, "again")
    unblocked = await admin.unblock_ticket(repo, NOW, ADMIN, ticket.id, "checked with the venue")
    assert unblocked.ticket.status == TicketStatus.ACTIVE and unblocked.ticket.block_reason is None
    assert [t.id for t in await repo.feed.older(feed, None, 10)] == [ticket.id]
    with pytest.raises(DomainError, match="admin-unblock-not-blocked"):
        await admin.unblock_ticket(repo, NOW, ADMIN, ticket.id, "again")

    file = await admin.ticket_file(repo, ticket.id)
    assert [(c.status, c.actor, c.reason) for c in file.history] == [
        (TicketStatus.BLOCKED, f"admin:{ADMIN}", "Fake barcode"),
        (TicketStatus.ACTIVE, f"admin:{ADMIN}", "checked with the venue"),
    ]
    assert [(a.admin_telegram_id, a.action, a.target_type, a.reason) for a in file.audit] == [
        (ADMIN, "ticket_block", "ticket", "Fake barcode"),
        (ADMIN, "ticket_unblock", "ticket", "checked with the venue"),
    ]
    with pytest.raises(DomainError, match="admin-ticket-unknown"):
        await admin.ticket_file(repo, ticket.id + 1000)


async def test_blocking_a_reserved_ticket_ends_the_hold_and_a_sold_one_is_refused(repo: Repo) -> None:
    seller, buyer = await make_users(repo, NOW, 2)
    ticket = await make_ticket(repo, seller, NOW, event_at=NOW + timedelta(hours=2))
    hold = await orders.hold(repo, SETTINGS, NOW, buyer, ticket.id)
    blocked = await admin.block_ticket(repo, NOW, ADMIN, ticket.id, "duplicate listing")
    assert blocked.cancelled is not None and blocked.cancelled.id == hold.order.id
    assert blocked.buyer is not None and blocked.buyer.id == buyer.id
    assert (await repo.orders.by_id(hold.order.id)).status == OrderStatus.CANCELLED  # type: ignore[union-attr]
    with pytest.raises(DomainError, match="buy-pay-closed"):  # the invoice still on the buyer's screen
        await orders.check_checkout(repo, NOW, buyer, hold.order.public_id, "XTR", hold.order.amount)
    # Unblocked after the event has started: expired, not back on sale.
    later = NOW + timedelta(hours=3)
    assert (await admin.unblock_ticket(repo, later, ADMIN, ticket.id, "ok")).ticket.status == TicketStatus.EXPIRED

    sold = await sell(repo, NOW)
    assert sold.ticket is not None
    with pytest.raises(DomainError, match="admin-block-not-on-sale"):
        await admin.block_ticket(repo, NOW, ADMIN, sold.ticket.id, "too late")
    assert (await repo.orders.ticket(sold.ticket.id)).status == TicketStatus.SOLD  # type: ignore[union-attr]


async def test_users_are_found_by_id_username_or_phone(repo: Repo) -> None:
    user = await make_user(repo, NOW, telegram_id=5_550_123)
    user.username = "Stroboscope_Fan"
    await repo.session.flush()
    for text in ("5550123", "@stroboscope_fan", "stroboscope_fan", user.phone_e164, user.phone_e164[1:],
                 "+7 (916) 555-01-23"):  # fmt: skip
        assert (await admin.find_user(repo, text)).id == user.id, text
    for text in ("", "@nobody_here", "+1", "12345", "@", "-5", "😀"):
        with pytest.raises(DomainError, match="admin-user-unknown"):
            await admin.find_user(repo, text)


async def test_a_ban_blocks_listings_and_cancels_holds_both_ways(repo: Repo) -> None:
    villain, buyer, other_seller = await make_users(repo, NOW, 3)
    on_sale = await make_ticket(repo, villain, NOW)
    reserved = await make_ticket(repo, villain, NOW)
    sold = await make_ticket(repo, villain, NOW, status=TicketStatus.SOLD)
    someone_elses = await make_ticket(repo, other_seller, NOW)
    buyer_hold = await orders.hold(repo, SETTINGS, NOW, buyer, reserved.id)
    villain_hold = await orders.hold(repo, SETTINGS, NOW, villain, someone_elses.id)

    banned = await admin.ban(repo, NOW, ADMIN, [ADMIN], str(villain.telegram_id), "selling fakes")
    assert banned.user.id == villain.id and banned.blocked == [on_sale.id, reserved.id]
    assert [(ticket_id, person.id) for ticket_id, person in banned.released_holds] == [(reserved.id, buyer.id)]
    assert banned.reopened == [someone_elses.id]
    statuses = {t: (await repo.orders.ticket(t)).status for t in (on_sale.id, reserved.id, sold.id, someone_elses.id)}  # type: ignore[union-attr]
    assert statuses == {on_sale.id: TicketStatus.BLOCKED, reserved.id: TicketStatus.BLOCKED,
                        sold.id: TicketStatus.SOLD, someone_elses.id: TicketStatus.ACTIVE}  # fmt: skip
    for hold in (buyer_hold, villain_hold):
        assert (await repo.orders.by_id(hold.order.id)).status == OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert banned.user.is_banned
    with pytest.raises(DomainError, match="admin-already-banned"):
        await admin.ban(repo, NOW, ADMIN, [ADMIN], villain.phone_e164, "again")

    file = await admin.ticket_file(repo, on_sale.id)  # the seller's ban shows on each of their tickets
    assert [(a.action, a.target_type, a.reason) for a in file.audit] == [("user_ban", "user", "selling fakes")]
    assert [(c.status, c.reason) for c in file.history] == [(TicketStatus.BLOCKED, "selling fakes")]

    assert not (await admin.unban(repo, NOW, ADMIN, str(villain.telegram_id), "appeal accepted")).is_banned
    with pytest.raises(DomainError, match="admin-not-banned"):
        await admin.unban(repo, NOW, ADMIN, str(villain.telegram_id), None)
    assert (await repo.orders.ticket(on_sale.id)).status == TicketStatus.BLOCKED  # type: ignore[union-attr]
    actions = (await repo.session.execute(AuditEntry.__table__.select().order_by(AuditEntry.id))).all()
    assert [(row.action, row.reason) for row in actions] == [("user_ban", "selling fakes"),
                                                              ("user_unban", "appeal accepted")]  # fmt: skip


async def test_admins_cannot_be_banned(repo: Repo) -> None:
    boss = await make_user(repo, NOW, telegram_id=ADMIN)
    with pytest.raises(DomainError, match="admin-ban-admin"):
        await admin.ban(repo, NOW, ADMIN, [ADMIN], str(ADMIN), "oops")
    assert not (await repo.users.current(boss.id)).is_banned  # type: ignore[union-attr]


@given(st.text(max_size=12))
def test_page_numbers_parse_or_are_refused_cleanly(text: str) -> None:
    try:
        page = admin.parse_page(text)
    except DomainError as error:
        assert error.code == "admin-page-invalid"
    else:
        assert page >= 1 and (not text.strip() or str(page) == text.strip().lstrip("0") or page == int(text))


@given(st.integers(min_value=1, max_value=2**31 - 1))
def test_ticket_ids_round_trip(ticket_id: int) -> None:
    assert admin.parse_ticket_id(f" #{ticket_id} ") == ticket_id


@given(st.text(max_size=40))
def test_ticket_ids_never_crash(text: str) -> None:
    try:
        assert admin.parse_ticket_id(text) >= 1
    except DomainError as error:
        assert error.code == "admin-ticket-unknown"


@given(st.text(max_size=400))
def test_reasons_are_one_line_of_at_most_255_printable_characters(text: str) -> None:
    try:
        reason = admin.clean_reason(text)
    except DomainError as error:
        assert error.code in ("admin-reason-empty", "admin-reason-invalid")
    else:
        assert 1 <= len(reason) <= admin.REASON_MAX and reason == reason.strip() and "\n" not in reason


@pytest.mark.parametrize("code", admin.ERROR_CODES)
def test_every_refusal_has_a_text_in_both_languages(code: str) -> None:
    assert translate(code, "en") != code and translate(code, "ru") != code
