"""Long polling in which a payment is recorded before Telegram is told it arrived.

The offset of a getUpdates call tells Telegram that every earlier update was received: it is never sent again.
aiogram's own polling starts each update as a background task and asks for the next batch at once, so a process
killed between that request and the handler's commit loses a paid order (one Stars charge, no sale). Here an update
that carries money (`successful_payment`, and the pre-checkout query whose answer Telegram awaits for 10 s) is handled
in the loop itself, up to its commit and its answer, before the next offset is requested; every other update runs in
the background, at most UPDATES_CONCURRENCY at once, acknowledged as it is fetched, as before.

Chosen over an inbox table (the raw update stored before the ack, processed idempotently later): the payment handler
already commits the sale before it speaks and is idempotent on the charge id, so handling it in line needs no new
table, no second write per update and no worker to drain an inbox; its cost is the payment's own handling time in the
loop, which a few payments a second afford. A crash anywhere before the commit, or a handler that raises (the
database down), leaves the update unacknowledged, so it is fetched again (after a pause, or after the restart) and
the idempotent handler records it once.

On a stop (SIGTERM, SIGINT, `stop`) nothing more is fetched; running updates get SHUTDOWN_TIMEOUT seconds to finish,
then the handled ones are confirmed (a final getUpdates with the offset and no wait), so a restart neither repeats
them nor loses one that was cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import GetUpdates
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.runners.updates import UpdatePool, carries_money, handle

log = logging.getLogger(__name__)
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


class PollingRunner:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        polling_timeout: int,
        concurrency: int,
        shutdown_timeout: float,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.polling_timeout = polling_timeout
        self.shutdown_timeout = shutdown_timeout
        self.pool = UpdatePool(concurrency)
        self.offset: int | None = None
        self._confirmed: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set, then let the running updates finish and confirm them."""
        workflow: dict[str, Any] = {"dispatcher": self.dispatcher, "bots": [self.bot], **self.dispatcher.workflow_data}
        await self.dispatcher.emit_startup(bot=self.bot, **workflow)
        try:
            await self._poll(stop, workflow)
        finally:
            cut = await self.pool.drain(self.shutdown_timeout)
            await self._confirm(min(cut) if cut else self.offset)
            await self.dispatcher.emit_shutdown(bot=self.bot, **workflow)

    async def _poll(self, stop: asyncio.Event, workflow: dict[str, Any]) -> None:
        allowed = self.dispatcher.resolve_used_update_types()
        backoff = Backoff(BACKOFF)
        log.info("Polling for updates")
        while not stop.is_set():
            request = GetUpdates(offset=self.offset, timeout=self.polling_timeout, allowed_updates=allowed)
            wait = int(self.bot.session.timeout + self.polling_timeout)  # longer than the long poll itself
            updates = await _until_stopped(stop, self.bot(request, request_timeout=wait))
            if updates is None:
                return
            if isinstance(updates, BaseException):
                log.error("Failed to fetch updates: %s: %s", type(updates).__name__, updates)
                await _until_stopped(stop, backoff.asleep())
                continue
            backoff.reset()
            self._confirmed = self.offset
            for update in updates:
                if carries_money(update):
                    if not await handle(self.dispatcher, self.bot, update, **workflow):
                        break  # not acknowledged: fetched again (the handler is idempotent) after a pause
                else:
                    await self.pool.spawn(update.update_id, handle(self.dispatcher, self.bot, update, **workflow))
                self.offset = update.update_id + 1
            else:
                continue
            await _until_stopped(stop, backoff.asleep())
        log.info("Polling stopped")

    async def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == self._confirmed:
            return
        with contextlib.suppress(TelegramAPIError, TelegramNetworkError):
            await self.bot(GetUpdates(offset=offset, limit=1, timeout=0))
            self._confirmed = offset


async def _until_stopped(stop: asyncio.Event, work: Any) -> Any:
    """`work`'s result (its exception as a value), or None when `stop` is set first (`work` is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None
    return task.exception() or task.result()
