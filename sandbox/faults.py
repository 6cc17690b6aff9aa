"""Failures injected by tests: chosen Bot API calls answer an error (or hang) as Telegram would on a bad day."""

from __future__ import annotations

import copy
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


class Faults:
    """The failure rules in force; ``check`` is the transport's guard."""

    def __init__(self) -> None:
        self.rules: list[FailureRule] = []

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        parameters: dict[str, Any] | None = None
        if error_code == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif description is None:
            description = DESCRIPTIONS.get(error_code, f"Error {error_code}")
        self.rules.append(FailureRule(method.lower(), error_code, description, parameters, times, chat_id))

    async def check(self, bot: BotState, call: ApiCall) -> None:
        for rule in self.rules:
            if rule.method != call.method.lower() or rule.remaining <= 0:
                continue
            if rule.chat_id is not None and call.params.get("chat_id") != rule.chat_id:
                continue
            rule.remaining -= 1
            self.rules = [r for r in self.rules if r.remaining > 0]
            raise ApiError(rule.code, rule.description, copy.deepcopy(rule.parameters))
