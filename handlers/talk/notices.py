"""Telling both sides that their conversation closed because its ticket left sale (sold, expired, withdrawn,
blocked). The services close them wherever that happens; once the transaction commits, services.relay hands the
closed ones here, and they are told in the background through the notifier."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notifier import Notifier
from db.repo import Repo
from db.repositories.relay import ClosedConversation
from handlers.talk.views import closed_text
from services import accounts, orders
from services.relay import CloseReason

log = logging.getLogger(__name__)


class ClosingNotices:
    """A services.relay listener: each batch of closed conversations is told about in a task of its own."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], notifier: Notifier) -> None:
        self.sessionmaker = sessionmaker
        self.notifier = notifier
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, closed: list[tuple[CloseReason, ClosedConversation]]) -> None:
        task = asyncio.get_running_loop().create_task(self._tell(closed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the notices under way (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _tell(self, closed: list[tuple[CloseReason, ClosedConversation]]) -> None:
        try:
            async with self.sessionmaker() as session:
                repo = Repo(session)
                for reason, party in closed:
                    ticket = await orders.ticket_by_id(repo, party.ticket_id)
                    assert ticket is not None
                    for chat_id in (party.buyer_chat_id, party.seller_chat_id):
                        person = await accounts.by_telegram_id(repo, chat_id)
                        language = person.language if person is not None else "en"
                        await self.notifier.send(chat_id, closed_text(reason, ticket, language))
        except Exception:
            log.exception("closing notices failed")
