"""The outbox sender: claims due outbox rows (services/outbox.py), has each kind's renderer build its Bot API calls
at send time, and makes them through the notifier's limits (about 30/s overall, 1/s per chat).

A 429 puts the row back until its retry_after; a 5xx, a network error or a timeout, and a renderer's error, count
as failed tries with exponential backoff, and the row is dead after its attempts; a 403 or 400 is final (dead at
once: visible to admins, who may retry it). Each accepted call is recorded before the next is made, so a retry or
another instance resumes after it. Rows of one chat go in order: when one fails, the chat's later rows of the
batch wait behind it. The worker wakes as soon as a transaction of this process enqueues rows, and polls for the
rest (other instances' rows, retries coming due)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notifier import Delivery, Notifier
from db.models import OutboxMessage, OutboxStatus
from db.repo import Repo
from services import outbox
from services.crypto import Secrets
from services.outbox import RetryPolicy
from services.rules import PaymentRules
from services.storage import PhotoStorage

log = logging.getLogger(__name__)

RETRY_LATER = (Delivery.SERVER_ERROR, Delivery.NETWORK_ERROR)


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may read at send time: a read-only session's repositories, the keys and the photos, and the
    payment rules (a redrawn card's price in Stars)."""

    repo: Repo
    secrets: Secrets
    photo_storage: PhotoStorage
    payment_rules: PaymentRules | None = None


# A kind's renderer: the Bot API calls that deliver one row, in order, the same number every time it is asked.
Renderer = Callable[[RenderContext, OutboxMessage], Awaitable[list[TelegramMethod[Any]]]]


class OutboxWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        notifier: Notifier,
        renderers: Mapping[str, Renderer],
        secrets: Secrets,
        photo_storage: PhotoStorage,
        *,
        policy: RetryPolicy | None = None,
        batch: int = 50,
        poll_seconds: float = 5.0,
        request_timeout: int = 30,
        clock: Callable[[], datetime] = outbox.wall_clock,
        payment_rules: PaymentRules | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.notifier = notifier
        self.renderers = dict(renderers)
        self.secrets = secrets
        self.photo_storage = photo_storage
        self.policy = policy or RetryPolicy()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.request_timeout = request_timeout  # well under the lease: a hung call ends before its claim does
        self.clock = clock
        self.payment_rules = payment_rules
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # --- running --------------------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-worker")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Finish the pass in progress (bounded by `timeout`), then stop; what is left stays in the outbox."""
        self._stopping = True
        self.wake()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def run(self) -> None:
        unsubscribe = outbox.subscribe(self.wake)
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    while await self.run_once() and not self._stopping:
                        pass
                    pause = await self._until_next_due()
                except Exception:  # the database is down, say: the rows wait; try again after a poll
                    log.exception("outbox pass failed")
                    pause = self.poll_seconds
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
        finally:
            unsubscribe()

    async def _until_next_due(self) -> float:
        async with self.sessionmaker() as session:
            due = await outbox.next_due(session)
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, (due - self.clock()).total_seconds()))

    async def run_once(self) -> int:
        """One pass: claim due rows and deliver them, chats side by side, each chat's rows in order. Returns how
        many rows were claimed."""
        async with self.sessionmaker() as session:
            claim = await outbox.claim(session, self.policy, self.clock(), self.batch)
        chats = groupby(sorted(claim.messages, key=lambda m: (m.chat_id, m.id)), key=lambda m: m.chat_id)
        await asyncio.gather(*(self._deliver_chat(claim.token, list(rows)) for _, rows in chats))
        return len(claim.messages)

    async def _deliver_chat(self, token: str, rows: list[OutboxMessage]) -> None:
        for index, row in enumerate(rows):
            try:
                done = await self._deliver(token, row)
            except Exception:  # the database failed mid-row: its lease brings it back; the rest waits behind it
                log.exception("outbox row %s: delivery interrupted", row.id)
                done = False
            if not done:
                async with self.sessionmaker() as session:
                    failed = await Repo(session).outbox.by_id(row.id)
                    at = failed.next_attempt_at if failed else self.clock()
                    for later in rows[index + 1 :]:
                        await outbox.later(session, later, token, at, "behind its chat", failed=False)
                return

    # --- one row ------------------------------------------------------------------------------------------
    async def _deliver(self, token: str, row: OutboxMessage) -> bool:
        """Send what is left of the row; True when it is sent (or dead), False when it waits for a retry."""
        renderer = self.renderers.get(row.kind)
        if renderer is None:
            return await self._bury(token, row, f"no renderer for kind {row.kind!r}")
        try:
            async with self.sessionmaker() as session:
                context = RenderContext(Repo(session), self.secrets, self.photo_storage, self.payment_rules)
                calls = await renderer(context, row)
        except Exception as error:
            log.exception("outbox row %s (%s): rendering failed", row.id, row.kind)
            return await self._failed(token, row, f"render: {error!r}")
        done = row.steps_done
        for call in calls[done:]:
            result = await self.notifier.attempt(row.chat_id, partial(self.bot, call, self.request_timeout))
            if result.delivery == Delivery.SENT:
                done += 1
                if done < len(calls):
                    async with self.sessionmaker() as session:
                        if not await outbox.progress(session, self.policy, row, token, done, self.clock()):
                            log.warning("outbox row %s: claim lost after step %s", row.id, done)
                            return True
                continue
            failure = f"{result.delivery.value}: {result.error}"
            if result.delivery == Delivery.RETRY_AFTER:
                async with self.sessionmaker() as session:
                    at = self.clock() + timedelta(seconds=result.retry_after)
                    await outbox.later(session, row, token, at, failure, failed=False)
                return False
            if result.delivery in RETRY_LATER:
                log.warning("outbox row %s: %s; retrying later", row.id, failure)
                return await self._failed(token, row, failure)
            return await self._bury(token, row, failure)
        async with self.sessionmaker() as session:
            await outbox.sent(session, row, token, done, self.clock())
        return True

    async def _failed(self, token: str, row: OutboxMessage, error: str) -> bool:
        async with self.sessionmaker() as session:
            status = await outbox.failed(session, self.policy, row, token, error, self.clock())
        if status == OutboxStatus.DEAD:
            log.error("outbox row %s (%s) is dead after %s attempts: %s", row.id, row.kind, row.attempts + 1, error)
            return True
        return False

    async def _bury(self, token: str, row: OutboxMessage, error: str) -> bool:
        async with self.sessionmaker() as session:
            await outbox.bury(session, row, token, error)
        log.error("outbox row %s (%s) is dead: %s", row.id, row.kind, error)
        return True
