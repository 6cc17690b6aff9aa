"""Telegram's flood limits, counted: about one message a second per chat (short bursts allowed) and about 30 a
second overall. In ``strict`` mode a broken limit is recorded and fails the test when the emulator stops; in
``enforce`` mode the call is refused with 429 and ``retry_after``, as Telegram refuses it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

from .errors import ApiError
from .params import ApiCall
from .state import BotState

__all__ = ["FloodLimits", "FloodViolation"]

Mode = Literal["off", "strict", "enforce"]

# Methods that put a new message into a chat: what Telegram's per-chat and overall limits count.
SENDING = frozenset(
    {
        "sendmessage", "sendphoto", "senddocument", "sendmediagroup", "sendinvoice", "copymessage",
        "forwardmessage", "sendvideo", "sendaudio", "sendvoice", "sendanimation", "sendsticker", "sendlocation",
        "sendcontact", "sendpoll", "senddice", "sendvenue", "sendvideonote",
    }
)  # fmt: skip


@dataclass
class Bucket:
    """A token bucket: ``burst`` messages at once, refilled at ``rate`` a second."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> float:
        """Takes one token; returns 0, or how many seconds until one would have been there."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass(frozen=True)
class FloodViolation:
    """A call that broke a limit: which one (``chat`` or ``global``), where and when."""

    limit: str
    method: str
    chat_id: int | None
    at: float


class FloodLimits:
    """The limits in force; ``check`` is the transport's guard."""

    def __init__(self) -> None:
        self.mode: Mode = "off"
        self.per_chat_rate = 1.0
        self.per_chat_burst = 3.0
        self.global_rate = 30.0
        self.global_burst = 30.0
        self.violations: list[FloodViolation] = []
        self._chats: dict[tuple[int, int], Bucket] = {}
        self._bots: dict[int, Bucket] = {}

    async def check(self, bot: BotState, call: ApiCall) -> None:
        if self.mode == "off" or call.method.lower() not in SENDING:
            return
        now = time.monotonic()
        chat_id = call.params.get("chat_id")
        waits: list[tuple[str, float]] = []
        if isinstance(chat_id, int):
            chat = self._chats.setdefault((bot.id, chat_id), Bucket(self.per_chat_rate, self.per_chat_burst))
            waits.append(("chat", chat.take(now)))
        overall = self._bots.setdefault(bot.id, Bucket(self.global_rate, self.global_burst))
        waits.append(("global", overall.take(now)))
        broken = [(limit, wait) for limit, wait in waits if wait > 0]
        if not broken:
            return
        for limit, _ in broken:
            self.violations.append(FloodViolation(limit, call.method, chat_id if limit == "chat" else None, now))
        if self.mode == "enforce":
            retry_after = max(1, math.ceil(max(wait for _, wait in broken)))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    def assert_kept(self) -> None:
        """Fails with every violation listed (strict mode's teardown check)."""
        if self.mode == "strict" and self.violations:
            shown = ", ".join(f"{v.limit} limit by {v.method} to {v.chat_id}" for v in self.violations[:10])
            raise AssertionError(f"{len(self.violations)} Telegram flood limit violations: {shown}")
