"""The webhook server (`python -m bot webhook`): Telegram POSTs updates, answered 200 once they are safe.

A payment (`successful_payment`, and the pre-checkout query Telegram waits on) is handled before the 200, up to its
commit: a failure answers 500 and Telegram delivers it again to the idempotent handler. Any other update is handed
to a background pool (at most UPDATES_CONCURRENCY at once; a full pool holds the request, so Telegram slows down) and
answered at once. The secret header must match WEBHOOK_SECRET, or the request is refused with 401 and nothing is
read. GET /healthz reports the database and Redis (503 when one is down); GET /metrics serves Prometheus metrics.

Several instances may run behind a load balancer: each takes the address it is given (WEBHOOK_LISTEN), and what they
share (FSM state, the per-person lock, throttling) lives in Redis when REDIS_URL is set. The webhook is set at
start-up and left in place on a stop: updates wait in Telegram for the next instance, never dropped.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError

from bot.runners.updates import UpdatePool, carries_money, handle

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HealthCheck = Callable[[], Awaitable[str]]  # "ok", or why not (raises or returns anything else: down)


class WebhookRunner:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        url: str,
        path: str,
        secret: str,
        listen: tuple[str, int],
        concurrency: int,
        shutdown_timeout: float,
        health: dict[str, HealthCheck],
        metrics: Callable[[], Awaitable[bytes]],
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.url = url
        self.path = path
        self.secret = secret
        self.listen = listen
        self.shutdown_timeout = shutdown_timeout
        self.health = health
        self.metrics = metrics
        self.pool = UpdatePool(concurrency)
        self.port: int | None = None  # the port bound (WEBHOOK_LISTEN may ask for 0: any free one)
        self._workflow: dict[str, Any] = {"dispatcher": dispatcher, "bots": [bot], **dispatcher.workflow_data}

    def application(self) -> web.Application:
        application = web.Application()
        application.router.add_post(self.path, self._update)
        application.router.add_get("/healthz", self._healthz)
        application.router.add_get("/metrics", self._metrics)
        return application

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; then take no more updates and let the running ones finish."""
        await self.dispatcher.emit_startup(bot=self.bot, **self._workflow)
        runner = web.AppRunner(self.application(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, *self.listen)
        try:
            await site.start()
            self.port = runner.addresses[0][1]
            log.info("Webhook server listening on http://%s:%d%s", self.listen[0], self.port, self.path)
            await self.bot.set_webhook(
                self.url,
                secret_token=self.secret,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
            await stop.wait()
        finally:
            await site.stop()
            await self.pool.drain(self.shutdown_timeout)
            await runner.cleanup()
            await self.dispatcher.emit_shutdown(bot=self.bot, **self._workflow)

    async def _update(self, request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), self.secret.encode()):
            return web.Response(status=401, text="Unauthorized")
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except (ValueError, ValidationError):
            return web.Response(status=400, text="Not an update")
        if carries_money(update):
            done = await handle(self.dispatcher, self.bot, update, **self._workflow)
            return web.Response(status=200 if done else 500)
        await self.pool.spawn(update.update_id, handle(self.dispatcher, self.bot, update, **self._workflow))
        return web.Response()

    async def _healthz(self, request: web.Request) -> web.Response:
        states = {name: await _state(check) for name, check in self.health.items()}
        healthy = all(state in ("ok", "unused") for state in states.values())
        return web.json_response(states, status=200 if healthy else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=await self.metrics(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _state(check: HealthCheck) -> str:
    try:
        return await asyncio.wait_for(check(), 3)
    except Exception as error:
        return f"down: {type(error).__name__}"
