"""What tests read: the calls the bot made, the chats as they are now, the command menus, and waiting for quiet."""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Iterator
from typing import Any

from .messages import BotMessage
from .methods.commands import scope_key
from .params import ApiCall
from .state import SandboxState

__all__ = ["Inspection"]


class Inspection(SandboxState):
    """Read-only views of the emulated Telegram, and waits on its activity."""

    def calls_to(self, method: str, bot: str | int | None = None) -> list[ApiCall]:
        name = method.lower()
        bot_id = self._bot(bot).id if bot is not None else None
        return [c for c in self.calls if c.method.lower() == name and (bot_id is None or c.bot_id == bot_id)]

    def messages_in(
        self, chat_id: int, bot: str | int | None = None, *, include_deleted: bool = False
    ) -> list[BotMessage]:
        """Messages the bot sent to this chat, in order, as they are now (after edits)."""
        state = self._bot(bot)
        chat = state.chats.get(int(chat_id))
        if chat is None:
            return []
        return [m.view() for m in chat.history() if m.outgoing and (include_deleted or not m.deleted)]

    def history(self, chat_id: int, bot: str | int | None = None) -> list[BotMessage]:
        """Every message in the chat, both ways, deleted ones included."""
        state = self._bot(bot)
        chat = state.chats.get(int(chat_id))
        return [m.view() for m in chat.history()] if chat else []

    def commands_for(
        self, user_id: int, language_code: str | None = None, bot: str | int | None = None
    ) -> list[dict[str, Any]]:
        """The command menu a private-chat user sees (Telegram's scope and language fallback)."""
        state = self._bot(bot)
        langs = [language_code, ""] if language_code else [""]
        scopes = [
            scope_key({"type": "chat_member", "chat_id": user_id, "user_id": user_id}),
            scope_key({"type": "chat", "chat_id": user_id}),
            scope_key({"type": "all_private_chats"}),
            scope_key({"type": "default"}),
        ]
        for scope in scopes:
            for lang in langs:
                commands = state.commands.get((scope, lang or ""))
                if commands:
                    return copy.deepcopy(commands)
        return []

    async def wait_polling(self, timeout: float = 5.0, bot: str | int | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot is long-polling (or has a webhook set)."""
        state = self._bot(bot)
        deadline = time.monotonic() + timeout
        while not (state.polling or state.webhook_url):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the bot did not start polling")
            await self._activity.wait(remaining)

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """The bot under test, in the same process, still handling an update: counted as a request in flight, so
        that ``wait_idle`` also waits for a handler between two of its calls (it answered a button, and is reading
        the database before it redraws the page); an update acknowledged as it was fetched is otherwise invisible."""
        self._inflight += 1
        self._touch()
        try:
            yield
        finally:
            self._inflight -= 1
            self._touch()

    async def wait_idle(self, quiet: float = 0.15, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every update is confirmed, no request is in flight (nor an update ``working``) and nothing
        happened for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = self._inflight > 0 or self.pending_updates > 0 or any(b.webhook_busy for b in self.bots.values())
            idle_for = now - self._last_activity
            if not busy and idle_for >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(
                    f"not idle after {timeout}s: {self._inflight} requests in flight, "
                    f"{self.pending_updates} updates not confirmed (is the bot polling?)"
                )
            wait = (quiet - idle_for) if not busy else (deadline - now)
            await self._activity.wait(max(0.005, min(wait, deadline - now)))
