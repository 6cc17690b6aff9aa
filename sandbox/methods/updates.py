"""How updates leave the emulator: getUpdates long polling, and the webhook settings that replace it."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from ..errors import ApiError, bad
from ..params import Params
from ..state import BotState, SandboxState
from ..webhooks import WebhookSender
from . import MethodFamily

SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
TERMINATED_BY_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


class UpdateMethods(MethodFamily):
    """getUpdates and the webhook: a bot uses one or the other, never both."""

    def __init__(self, emu: SandboxState, webhooks: WebhookSender) -> None:
        super().__init__(emu)
        self.webhooks = webhooks

    async def m_getUpdates(self, bot: BotState, p: Params) -> Any:
        if bot.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
            )
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = min(max(p.int("timeout", 0) or 0, 0), 50)
        if "allowed_updates" in p:
            allowed = p.json("allowed_updates", "can't parse allowed_updates JSON object")
            if isinstance(allowed, list):
                bot.allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        bot.confirm(offset)
        bot.poll_conflict = TERMINATED_BY_GET_UPDATES
        bot.poll_generation += 1
        generation = bot.poll_generation
        bot.signal.notify()  # an older getUpdates still waiting is terminated
        deadline = time.monotonic() + timeout
        bot.polling += 1
        self.emu._touch()
        try:
            while True:
                if generation != bot.poll_generation:
                    raise ApiError(409, bot.poll_conflict)
                if bot.pending:
                    return copy.deepcopy(bot.pending[:limit])
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.emu._closing:
                    return []
                await bot.signal.wait(remaining)
        finally:
            bot.polling -= 1

    async def m_setWebhook(self, bot: BotState, p: Params) -> Any:
        url = p.str("url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.str("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(secret):
            raise bad("secret token contains unallowed characters")
        if p.bool("drop_pending_updates"):
            bot.pending.clear()
        if "allowed_updates" in p:
            allowed = p.json("allowed_updates")
            if isinstance(allowed, list):
                bot.allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        bot.webhook_url = url
        bot.webhook_secret = secret
        bot.webhook_max_connections = min(max(p.int("max_connections", 40) or 40, 1), 100)
        bot.webhook_last_error = None
        if bot.polling:
            bot.poll_conflict = "Conflict: terminated by setWebhook request"
            bot.poll_generation += 1
        bot.signal.notify()
        if url:
            self.webhooks.start(bot)
        return True

    async def m_deleteWebhook(self, bot: BotState, p: Params) -> Any:
        bot.webhook_url = ""
        if p.bool("drop_pending_updates"):
            bot.pending.clear()
        bot.signal.notify()
        return True

    async def m_getWebhookInfo(self, bot: BotState, p: Params) -> Any:
        info: dict[str, Any] = {
            "url": bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending),
        }
        if bot.webhook_url:
            info["max_connections"] = bot.webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            if bot.allowed_updates is not None:
                info["allowed_updates"] = sorted(bot.allowed_updates)
            if bot.webhook_last_error:
                info["last_error_date"], info["last_error_message"] = bot.webhook_last_error
        return info
