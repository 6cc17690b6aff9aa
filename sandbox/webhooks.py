"""Webhook delivery as Telegram does it: each pending update POSTed as JSON with the secret header, retried with
growing delays until a 2xx answer, several at once (``max_connections``) but one at a time per chat.

A test can put several URLs in ``targets`` to stand in for a load balancer: each POST (retries included) goes to
the next URL in turn, so consecutive updates land on alternating instances.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, MultipartReader

from .params import UploadedFile
from .state import BotState, SandboxState
from .transport import ApiServer, read_multipart

__all__ = ["WebhookDelivery", "WebhookSender", "chat_key"]


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update: where it went and what came back (status 0: no HTTP answer at all)."""

    update_id: int
    url: str
    status: int
    at: float


class WebhookSender:
    """Posts every bot's pending updates to its webhook; a method in an answer's body is run as the bot's call."""

    def __init__(self, emu: SandboxState, server: ApiServer) -> None:
        self.emu = emu
        self.server = server
        self.targets: list[str] | None = None  # URLs taken in turn instead of the bot's own (a load balancer)
        # Telegram's retry delays grow from seconds to minutes; scaled down so that tests see several retries.
        self.first_delay = 0.05
        self.max_delay = 2.0
        self.timeout = 30.0  # how long one POST may take before it counts as failed
        self.deliveries: list[WebhookDelivery] = []
        self.http: ClientSession | None = None
        self._turn = itertools.count()

    def start(self, bot: BotState) -> None:
        if bot.webhook_task is None or bot.webhook_task.done():
            bot.webhook_task = asyncio.create_task(self._deliver(bot))

    async def close(self) -> None:
        if self.http:
            await self.http.close()

    def _url(self, bot: BotState) -> str:
        if self.targets:
            return self.targets[next(self._turn) % len(self.targets)]
        return bot.webhook_url

    async def _deliver(self, bot: BotState) -> None:
        if self.http is None:
            self.http = ClientSession(timeout=ClientTimeout(total=self.timeout))
        inflight: dict[int, asyncio.Task[None]] = {}
        retry_at: dict[int, float] = {}
        attempts: dict[int, int] = {}
        while bot.webhook_url and not self.emu._closing:
            now = time.monotonic()
            waiting_chats: set[Any] = set()
            wake: float | None = None
            for update in list(bot.pending):
                key = chat_key(update)
                if key in waiting_chats:
                    continue  # an earlier update of this chat is not delivered yet: order within a chat is kept
                waiting_chats.add(key)
                update_id = update["update_id"]
                if update_id in inflight:
                    continue
                if len(inflight) >= bot.webhook_max_connections:
                    break
                at = retry_at.get(update_id, 0.0)
                if at > now:
                    wake = at if wake is None else min(wake, at)
                    continue
                inflight[update_id] = asyncio.create_task(self._post(bot, update, inflight, retry_at, attempts))
            bot.webhook_busy = bool(inflight)
            await bot.signal.wait(None if wake is None else wake - time.monotonic())
        for task in inflight.values():
            await asyncio.gather(task, return_exceptions=True)
        bot.webhook_busy = False

    async def _post(
        self,
        bot: BotState,
        update: dict[str, Any],
        inflight: dict[int, asyncio.Task[None]],
        retry_at: dict[int, float],
        attempts: dict[int, int],
    ) -> None:
        assert self.http is not None
        update_id = update["update_id"]
        url = self._url(bot)
        headers = {"Content-Type": "application/json"}
        if bot.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook_secret
        reply: tuple[dict[str, Any], dict[str, UploadedFile]] | None = None
        try:
            async with self.http.post(url, data=json.dumps(update), headers=headers) as resp:
                status = resp.status
                if 200 <= status < 300:
                    reply = await _read_reply(resp)
        except (ClientError, TimeoutError, ValueError) as e:
            status = 0
            bot.webhook_last_error = (int(time.time()), f"Connection failed: {type(e).__name__}")
        self.deliveries.append(WebhookDelivery(update_id, url, status, time.time()))
        try:
            if 200 <= status < 300:
                bot.pending = [u for u in bot.pending if u["update_id"] != update_id]
                retry_at.pop(update_id, None)
                attempts.pop(update_id, None)
                if reply is not None:
                    params, files = reply
                    await self.server.run(bot, str(params.pop("method")), params, files)
            else:
                if status:
                    bot.webhook_last_error = (int(time.time()), f"Wrong response from the webhook: {status}")
                attempts[update_id] = attempts.get(update_id, 0) + 1
                delay = min(self.first_delay * 2 ** (attempts[update_id] - 1), self.max_delay)
                retry_at[update_id] = time.monotonic() + delay
        finally:
            inflight.pop(update_id, None)
            self.emu._touch()
            bot.signal.notify()


async def _read_reply(resp: Any) -> tuple[dict[str, Any], dict[str, UploadedFile]] | None:
    """A method in the webhook's answer (JSON, or multipart as aiogram writes it), or None."""
    if resp.content_type.startswith("multipart/"):
        params, files = await read_multipart(MultipartReader.from_response(resp))
    else:
        body = await resp.read()
        if not body.strip():
            return None
        try:
            params, files = json.loads(body), {}
        except ValueError:
            return None
    if not isinstance(params, dict) or "method" not in params:
        return None
    return params, files


def chat_key(update: dict[str, Any]) -> Any:
    """Whose conversation an update belongs to: Telegram delivers one chat's updates in order."""
    payload: Any = next((v for k, v in update.items() if k != "update_id"), {})
    if isinstance(payload, dict):
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return chat["id"]
        sender = payload.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return sender["id"]
    return None
