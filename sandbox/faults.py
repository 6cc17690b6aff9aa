"""Failures injected by tests: chosen Bot API calls answer an error (or hang) as Telegram would on a bad day."""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .params import ApiCall
from .state import BotState

__all__ = ["Faults"]

DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class FailureRule:
    method: str
    code: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int
    chat_id: int | None = None
    hang: float = 0.0  # seconds the call takes before its answer (an error, or with code 0 the normal answer)

    def matches(self, call: ApiCall) -> bool:
        if self.method != call.method.lower() or self.remaining <= 0:
            return False
        return self.chat_id is None or call.params.get("chat_id") == self.chat_id


@dataclass
class CallHook:
    method: str
    callback: Callable[[ApiCall], Awaitable[None] | None]
    remaining: int | None


class Faults:
    """The failure rules in force; ``check`` is the transport's guard."""

    def __init__(self) -> None:
        self.rules: list[FailureRule] = []
        self.hooks: list[CallHook] = []

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | None = None,
        hang: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally only to ``chat_id``) fail like Telegram would.

        ``error_code`` 429 carries ``retry_after``; 500, 502... get Telegram's texts. ``hang`` seconds pass before
        the answer; with ``error_code=0`` the call then succeeds (a slow Telegram that still sends the message).
        """
        parameters: dict[str, Any] | None = None
        if error_code == 0:
            description = ""
        elif error_code == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif description is None:
            description = DESCRIPTIONS.get(error_code, f"Error {error_code}")
        self.rules.append(FailureRule(method.lower(), error_code, description, parameters, times, chat_id, hang))

    def on_call(
        self, method: str, callback: Callable[[ApiCall], Awaitable[None] | None], times: int | None = 1
    ) -> None:
        """Run ``callback(call)`` (sync or async) when the bot calls ``method``, before it runs (e.g. kill the bot);
        ``times=None``: on every call."""
        self.hooks.append(CallHook(method.lower(), callback, times))

    async def check(self, bot: BotState, call: ApiCall) -> None:
        for hook in [h for h in self.hooks if h.method == call.method.lower()]:
            if hook.remaining is not None:
                hook.remaining -= 1
                if hook.remaining <= 0:
                    self.hooks.remove(hook)
            outcome = hook.callback(call)
            if inspect.isawaitable(outcome):
                await outcome
        rule = next((r for r in self.rules if r.matches(call)), None)
        if rule is None:
            return
        rule.remaining -= 1
        self.rules = [r for r in self.rules if r.remaining > 0]
        if rule.hang:
            await asyncio.sleep(rule.hang)
        if rule.code:
            raise ApiError(rule.code, rule.description, copy.deepcopy(rule.parameters))
