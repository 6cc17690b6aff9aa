"""Sales for the outbox and reconciliation tests: a listed ticket with a real barcode and photo, a hold, and the
Bot API emulator with the faults Telegram shows (per-chat flood, calls that time out before or after they land)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from db.models import Ticket, User
from db.repo import Repo
from sandbox.emulator import BotApiEmulator
from sandbox.errors import ApiError
from sandbox.params import ApiCall
from sandbox.state import BotState
from services import orders
from services.barcodes import render_barcode_png
from services.crypto import Secrets
from services.storage import PhotoStorage
from tests.factories import make_payment_rules, make_ticket, make_user

ADMIN_IDS = [900_001]
STARS = make_payment_rules()
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Deal:
    seller: User
    buyer: User
    ticket: Ticket
    hold: orders.Hold

    def payment(self, charge_id: str) -> orders.Payment:
        return orders.Payment(
            self.hold.order.public_id, self.hold.charge.currency, self.hold.charge.total, charge_id,
            payer_telegram_id=self.buyer.telegram_id,
        )  # fmt: skip


async def make_deal(repo: Repo, secrets: Secrets, photo_storage: PhotoStorage, barcode: str) -> Deal:
    """A ticket listed with a QR code of `barcode` (its photo: the code drawn by our renderer, a real image that
    decodes) and held by a buyer, committed."""
    seller = await make_user(repo, NOW, first_name="Sergei")
    buyer = await make_user(repo, NOW, first_name="Bella")
    ticket = await make_ticket(repo, seller, NOW)
    ticket.barcode_ciphertext = secrets.seal_text(barcode)
    ticket.photo_key = await photo_storage.put(render_barcode_png("QRCode", barcode or "unreadable"))
    hold = await orders.hold(repo, STARS, NOW, buyer, ticket.id)
    await repo.commit()
    return Deal(seller, buyer, ticket, hold)


SENDS = ("sendmessage", "sendphoto", "senddocument")


class FaultyEmulator(BotApiEmulator):
    """The emulator with Telegram's per-chat flood limit (1 message a second per chat: a 429 with retry_after
    beyond it) and calls that hang past the client's timeout, either before they land (lost) or after (landed, the
    answer lost). `fail_next` still injects 429/5xx."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.flood = False
        self.hang: dict[str, list[str]] = {}  # method -> ["lost" | "landed", ...], one per call
        self.hang_seconds = 3.0
        self.floods = 0
        self._last_send: dict[int, float] = {}

    def _check_injected(self, call: ApiCall) -> None:
        super()._check_injected(call)
        chat = call.params.get("chat_id")
        if not self.flood or call.method.lower() not in SENDS or not isinstance(chat, int):
            return
        now = time.monotonic()
        if now - self._last_send.get(chat, -10.0) < 0.95:  # "about" 1 a second: a little jitter passes
            self.floods += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._last_send[chat] = now

    async def _execute(self, bot: BotState, call: ApiCall, handler: Any) -> web.Response:
        plan = self.hang.get(call.method.lower())
        fault = plan.pop(0) if plan else None
        if fault == "lost":
            await asyncio.sleep(self.hang_seconds)
            return web.Response(status=504)
        response = await super()._execute(bot, call, handler)
        if fault == "landed":
            await asyncio.sleep(self.hang_seconds)
        return response
