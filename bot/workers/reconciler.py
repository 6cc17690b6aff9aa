"""The reconciler's bot side: Telegram's Stars record through aiogram (services/reconcile.py's StarLedger port),
and the job that reconciles at start-up and every few minutes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import TransactionPartnerUser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import reconcile
from services.outbox import wall_clock
from services.reconcile import LedgerEntry, RefundOutcome
from services.rules import PaymentRules

log = logging.getLogger(__name__)


class AiogramStarLedger:
    """getStarTransactions and refundStarPayment, as the reconciler asks for them."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def page(self, offset: int, limit: int) -> list[LedgerEntry]:
        result = await self.bot.get_star_transactions(offset=offset, limit=limit)
        entries = []
        for transaction in result.transactions:
            partner = transaction.source or transaction.receiver
            if not isinstance(partner, TransactionPartnerUser):
                continue  # withdrawals, ads...: not a payment of ours
            entries.append(
                LedgerEntry(
                    charge_id=transaction.id,
                    amount=transaction.amount,
                    date=transaction.date,
                    incoming=transaction.source is not None,
                    payer_telegram_id=partner.user.id,
                    payload=partner.invoice_payload,
                )
            )
        return entries

    async def refund(self, payer_telegram_id: int, charge_id: str) -> RefundOutcome:
        try:
            await self.bot.refund_star_payment(payer_telegram_id, charge_id)
        except TelegramBadRequest as error:
            if "CHARGE_ALREADY_REFUNDED" in error.message:
                return RefundOutcome.DONE
            log.error("Stars refund of %s refused: %s", charge_id, error.message)
            return RefundOutcome.REFUSED
        except TelegramAPIError as error:
            log.warning("Stars refund of %s failed: %s; the next run asks again", charge_id, error)
            return RefundOutcome.LATER
        return RefundOutcome.DONE


class ReconcileJob:
    """Reconciles now, then every `interval_seconds`, until stopped; a failed run is logged and tried next time."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        rules: PaymentRules,
        admin_ids: Sequence[int],
        *,
        interval_seconds: float = 300,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.ledger = AiogramStarLedger(bot)
        self.rules = rules
        self.admin_ids = list(admin_ids)
        self.interval_seconds = interval_seconds
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> reconcile.Report:
        return await reconcile.reconcile_stars(self.sessionmaker, self.ledger, self.rules, self.admin_ids, self.clock())

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="reconciler")

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("reconciliation failed; trying again in %s s", self.interval_seconds)
            await asyncio.sleep(self.interval_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
