"""What both runners share: which updates carry money, and a bounded pool of updates handled in the background."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from bot.metrics import ERRORS, LATENCY, UPDATES

log = logging.getLogger(__name__)


def carries_money(update: Update) -> bool:
    """A payment that arrived (recorded before Telegram hears it was received) or a pre-checkout query (Telegram
    waits 10 s for its answer: it never queues behind other people's updates)."""
    return update.pre_checkout_query is not None or bool(update.message and update.message.successful_payment)


async def handle(dispatcher: Dispatcher, bot: Bot, update: Update, /, **workflow: Any) -> bool:
    """Feed one update to the dispatcher; False when its handling raised (logged with the update id, counted)."""
    kind = update.event_type
    UPDATES.labels(type=kind).inc()
    started = time.perf_counter()
    try:
        response = await dispatcher.feed_update(bot, update, **workflow)
        if isinstance(response, TelegramMethod):
            await dispatcher.silent_call_request(bot, response)
    except Exception:
        ERRORS.labels(type=kind).inc()
        log.exception("Update %d failed", update.update_id)
        return False
    finally:
        LATENCY.labels(type=kind).observe(time.perf_counter() - started)
    return True


class UpdatePool:
    """Updates handled as background tasks, at most `limit` at once (`spawn` waits for a free place); `drain` lets
    the running ones finish within a time bound and cancels the rest."""

    def __init__(self, limit: int) -> None:
        self._places = asyncio.Semaphore(limit)
        self._running: dict[asyncio.Task[Any], int] = {}

    async def spawn(self, update_id: int, work: Any) -> None:
        await self._places.acquire()
        task = asyncio.create_task(work)
        self._running[task] = update_id
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._running.pop(task, None)
        self._places.release()

    async def drain(self, timeout: float) -> list[int]:  # noqa: ASYNC109
        """Wait up to `timeout` seconds for the running updates; returns the ids of those cut short."""
        if not self._running:
            return []
        running = dict(self._running)
        log.info("Letting %d running update(s) finish (at most %.0f s)", len(running), timeout)
        _, late = await asyncio.wait(running, timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        cut = sorted(running[task] for task in late)
        if cut:
            log.warning("Updates %s were still running after %.0f s and were cut short", cut, timeout)
        return cut
