"""The Bot API methods, one module per family; each family is a class whose ``m_<method>`` coroutines serve it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..params import Params
from ..state import BotState, SandboxState

__all__ = ["Handler", "MethodFamily"]

Handler = Callable[[BotState, Params], Awaitable[Any]]


class MethodFamily:
    """A group of related methods working on the shared state."""

    def __init__(self, emu: SandboxState) -> None:
        self.emu = emu

    def handlers(self) -> dict[str, tuple[str, Handler]]:
        """``{lowercase name: (Telegram's spelling, coroutine)}``: method names are case-insensitive on the wire."""
        return {attr[2:].lower(): (attr[2:], getattr(self, attr)) for attr in dir(self) if attr.startswith("m_")}
