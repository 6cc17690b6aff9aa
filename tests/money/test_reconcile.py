"""Reconciliation with Telegram's Stars record (the emulator's getStarTransactions), on SQLite and PostgreSQL:
charges whose successful_payment never reached us are recorded as the sale or refunded, a refund we asked for but
didn't record is completed, a second run changes nothing, two instances at once act once."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.workers.reconciler import ReconcileJob
from db.models import LedgerEntry, OrderStatus, OutboxMessage, RefundStatus, TicketStatus
from db.repo import Repo
from sandbox.emulator import BotApiEmulator
from sandbox.state import InvoiceInfo
from services import orders, reconcile
from services.crypto import Secrets
from services.reconcile import Finding
from services.storage import LocalPhotoStorage
from tests.factories import make_user
from tests.money.payments import ADMIN_IDS, NOW, STARS, Deal, make_deal


@pytest.fixture
async def deal(sessionmaker: async_sessionmaker[AsyncSession], secrets: Secrets, photos: LocalPhotoStorage) -> Deal:
    async with sessionmaker() as session:
        return await make_deal(Repo(session), secrets, photos, "T-1")


def charge(emu: BotApiEmulator, deal: Deal) -> str:
    """The buyer pays the invoice; Telegram records the charge, and its successful_payment never reaches us."""
    amount = deal.hold.charge.total
    info = InvoiceInfo("Ticket", "Ticket", deal.hold.order.public_id, "", "XTR", [{"label": "t", "amount": amount}],
                       amount, "")  # fmt: skip
    emu.user(deal.buyer.telegram_id, "Bella").started = True
    return emu._create_charge(emu.bot, deal.buyer.telegram_id, info).charge_id


def job(sessionmaker: async_sessionmaker[AsyncSession], bot: Bot) -> ReconcileJob:
    return ReconcileJob(sessionmaker, bot, STARS, ADMIN_IDS, clock=lambda: NOW)


async def outbox_kinds(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(row.kind, row.chat_id) for row in rows]


async def ledger_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count(LedgerEntry.id))) or 0)


async def test_a_charge_with_no_effect_becomes_the_sale_once(sessionmaker, bot, emu, deal) -> None:  # type: ignore[no-untyped-def]
    charge_id = charge(emu, deal)
    report = await job(sessionmaker, bot).run_once()
    assert (report.charges, report.matched) == (1, 0) and report.found and report.found[Finding.SOLD] == 1
    async with sessionmaker() as session:
        repo = Repo(session)
        order = await repo.orders.by_charge_id(charge_id)
        assert order is not None and order.status == OrderStatus.PAID
        ticket = await repo.orders.ticket(deal.ticket.id)
        assert ticket is not None and ticket.status == TicketStatus.SOLD and ticket.buyer_id == deal.buyer.id
        assert (await reconcile.findings(session))[Finding.SOLD] == 1
    assert await outbox_kinds(sessionmaker) == [("ticket", deal.buyer.telegram_id), ("sale", deal.seller.telegram_id)]
    rows = await ledger_rows(sessionmaker)
    again = await job(sessionmaker, bot).run_once()  # the second run changes nothing
    assert (again.charges, again.matched) == (1, 1) and again.found and not any(again.found.values())
    assert await ledger_rows(sessionmaker) == rows and len(await outbox_kinds(sessionmaker)) == 2
    assert emu.refunds == []


async def test_a_charge_that_cannot_buy_its_ticket_is_refunded_once(sessionmaker, bot, emu, deal) -> None:  # type: ignore[no-untyped-def]
    charge_id = charge(emu, deal)
    async with sessionmaker() as session:  # the ticket went to someone else meanwhile
        repo = Repo(session)
        await repo.orders.move(deal.hold.order.id, [OrderStatus.PENDING], OrderStatus.EXPIRED)
        await repo.orders.move_ticket(deal.ticket.id, TicketStatus.RESERVED, TicketStatus.SOLD, NOW)
        await repo.commit()
    report = await job(sessionmaker, bot).run_once()
    assert report.found and (report.found[Finding.REFUND_RECORDED], report.found[Finding.REFUNDED]) == (1, 1)
    assert [(r.user_id, r.telegram_payment_charge_id) for r in emu.refunds] == [(deal.buyer.telegram_id, charge_id)]
    async with sessionmaker() as session:
        refund = await Repo(session).orders.refund_of_charge(charge_id)
        assert refund is not None and refund.status == RefundStatus.DONE and refund.reason == "ticket-gone"
    assert await outbox_kinds(sessionmaker) == [("refund", deal.buyer.telegram_id)]
    again = await job(sessionmaker, bot).run_once()
    assert again.found and not any(again.found.values()) and len(emu.refunds) == 1


async def test_a_refund_telegram_made_but_we_did_not_record_is_completed(sessionmaker, bot, emu, deal) -> None:  # type: ignore[no-untyped-def]
    charge_id = charge(emu, deal)
    async with sessionmaker() as session:  # the payment bounced (recorded), then we died right after refunding
        repo = Repo(session)
        await repo.orders.move(deal.hold.order.id, [OrderStatus.PENDING], OrderStatus.CANCELLED)
        result = await orders.record_payment(repo, STARS, NOW, deal.buyer, deal.payment(charge_id))
        assert result.outcome == orders.Outcome.REFUND
        await repo.commit()
    await emu.call("refundStarPayment", user_id=deal.buyer.telegram_id, telegram_payment_charge_id=charge_id)
    calls = len(emu.calls_to("refundStarPayment"))
    report = await job(sessionmaker, bot).run_once()
    assert report.found and report.found[Finding.REFUNDED] == 1 and report.matched == 1
    assert len(emu.calls_to("refundStarPayment")) == calls  # read from Telegram's record, not asked again
    async with sessionmaker() as session:
        refund = await Repo(session).orders.refund_of_charge(charge_id)
        assert refund is not None and refund.status == RefundStatus.DONE


async def test_a_refund_telegram_refuses_is_an_admin_task(sessionmaker, bot, emu, deal) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:  # a payment bounced whose charge Telegram doesn't know
        repo = Repo(session)
        await repo.orders.move(deal.hold.order.id, [OrderStatus.PENDING], OrderStatus.CANCELLED)
        await orders.record_payment(repo, STARS, NOW, deal.buyer, deal.payment("stx-unknown"))
        await repo.commit()
    report = await job(sessionmaker, bot).run_once()
    assert report.found and report.found[Finding.REFUND_REFUSED] == 1
    assert ("refund-task", ADMIN_IDS[0]) in await outbox_kinds(sessionmaker)
    again = await job(sessionmaker, bot).run_once()  # asked again (Telegram may know it later), told once
    assert again.found and not any(again.found.values())
    assert (await outbox_kinds(sessionmaker)).count(("refund-task", ADMIN_IDS[0])) == 1


async def test_two_instances_at_once_act_once(sessionmaker, bot, emu, deal, secrets, photos) -> None:  # type: ignore[no-untyped-def]
    sold = charge(emu, deal)
    async with sessionmaker() as session:  # and a second order whose ticket is gone by the time it is reconciled
        other = await make_deal(Repo(session), secrets, photos, "T-2")
    bounced = charge(emu, other)
    async with sessionmaker() as session:
        repo = Repo(session)
        await repo.orders.move(other.hold.order.id, [OrderStatus.PENDING], OrderStatus.CANCELLED)
        await repo.orders.move_ticket(other.ticket.id, TicketStatus.RESERVED, TicketStatus.WITHDRAWN, NOW)
        await repo.commit()
    reports = await asyncio.gather(*(job(sessionmaker, bot).run_once() for _ in range(3)))
    assert sum(r.found[Finding.SOLD] for r in reports if r.found) == 1
    assert sum(r.found[Finding.REFUNDED] for r in reports if r.found) == 1
    assert [r.telegram_payment_charge_id for r in emu.refunds] == [bounced]
    async with sessionmaker() as session:
        order = await Repo(session).orders.by_charge_id(sold)
        assert order is not None and order.status == OrderStatus.PAID
        counted = await reconcile.findings(session)
    assert (counted[Finding.SOLD], counted[Finding.REFUND_RECORDED], counted[Finding.REFUNDED]) == (1, 1, 1)
    assert len(await outbox_kinds(sessionmaker)) == 3  # ticket + sale, and one refund notice


async def test_provider_charges_with_no_effect_become_admin_tasks(repo: Repo) -> None:
    payer = await make_user(repo, NOW)
    payment = orders.Payment("no-such-order", "RUB", 250_000, "tg-1", "prov-1", payer.telegram_id)
    assert await reconcile.reconcile_provider_charges(repo, ADMIN_IDS, NOW, [payment, payment]) == 1
    assert await reconcile.reconcile_provider_charges(repo, ADMIN_IDS, NOW, [payment]) == 0
    refund = await repo.orders.refund_of_charge("tg-1")
    assert refund is not None and refund.status == RefundStatus.PENDING and refund.currency == "RUB"
    assert (await reconcile.findings(repo.session))[Finding.ADMIN_TASK] == 1
