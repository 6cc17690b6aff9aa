"""Webhook delivery: each pending update POSTed as JSON to the bot's URL, retried until it is answered 2xx."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import ClientSession, ClientTimeout

from .state import BotState, SandboxState
from .transport import ApiServer

__all__ = ["WebhookSender"]


class WebhookSender:
    """Posts updates to webhooks the way Telegram does; a method in the answer's body is run as a call."""

    def __init__(self, emu: SandboxState, server: ApiServer) -> None:
        self.emu = emu
        self.server = server
        self.http: ClientSession | None = None

    async def close(self) -> None:
        if self.http:
            await self.http.close()

    async def deliver(self, bot: BotState) -> None:
        if self.http is None:
            self.http = ClientSession(timeout=ClientTimeout(total=60))
        backoff = 0.05
        while bot.webhook_url and not self.emu._closing:
            if not bot.pending:
                await bot.signal.wait(None)
                continue
            update = bot.pending[0]
            headers = {"Content-Type": "application/json"}
            if bot.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook_secret
            bot.webhook_busy = True
            try:
                async with self.http.post(bot.webhook_url, data=json.dumps(update), headers=headers) as resp:
                    body = await resp.read()
                    status = resp.status
            except Exception as e:
                bot.webhook_last_error = (int(time.time()), f"Connection failed: {type(e).__name__}")
                status, body = 0, b""
            finally:
                bot.webhook_busy = False
            if 200 <= status < 300:
                if bot.pending and bot.pending[0] is update:
                    bot.pending.pop(0)
                backoff = 0.05
                self.emu._touch()
                await self._reply(bot, body)
                continue
            if status:
                bot.webhook_last_error = (int(time.time()), f"Wrong response from the webhook: {status}")
            self.emu._touch()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    async def _reply(self, bot: BotState, body: bytes) -> None:
        if not body:
            return
        try:
            reply = json.loads(body)
        except ValueError:
            return
        if not isinstance(reply, dict) or "method" not in reply:
            return
        await self.server.run(bot, str(reply.pop("method")), reply)
