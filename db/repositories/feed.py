"""The feed's queries: tickets on sale, newest listing first, keyset-paginated on (created_at, id).

A page is one range scan of an ix_tickets_feed* index from the page's edge, LIMIT n: its cost does not grow with
the number of tickets (no OFFSET, no COUNT).

A search by name keeps the rule `event_name_folded LIKE '%word%'` for every word, and an index finds the few rows
of a rare word (migration 0006): on PostgreSQL the planner seeks the pg_trgm GIN index by itself; on SQLite the
FTS5 trigram table gives the ids of the tickets holding every word of 3+ characters, and when they are few
(RARE or fewer) the page reads just those rows; a common word walks the feed index instead, where matches are
dense and the scan stops after a few rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.models import EventType, Ticket, TicketStatus

LIKE_ESCAPE = "\\"
RARE = 500  # tickets holding a word: up to this many, the page reads them by id (SQLite)
TRIGRAM = 3  # the shortest word a trigram index can seek


def like_contains(word: str) -> str:
    """A LIKE pattern matching `word` anywhere, with the wildcards in `word` taken literally."""
    escaped = word.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class FeedQuery:
    """What the feed shows: tickets on sale for events after `now`, optionally of one type, in one city, with
    every word of `words` (already folded like tickets.event_name_folded) in the event name."""

    now: datetime
    event_type: EventType | None = None
    city_id: int | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Key:
    """A ticket's place in the feed order."""

    created_at: datetime
    ticket_id: int


class FeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rare_name_ids(self, words: tuple[str, ...]) -> list[int] | None:
        """SQLite: the ids of the tickets whose folded name holds every word of 3+ characters, from the FTS5
        trigram table (a superset of the LIKE rule's rows), when there are at most RARE; else None."""
        seekable = [word for word in words if len(word) >= TRIGRAM]
        if not seekable or self.session.get_bind().dialect.name != "sqlite":
            return None
        match = " AND ".join('"' + word.replace('"', '""') + '"' for word in seekable)
        statement = text("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :match LIMIT :limit")
        ids = list((await self.session.execute(statement, {"match": match, "limit": RARE + 1})).scalars())
        return ids if len(ids) <= RARE else None

    async def _filtered(self, query: FeedQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Ticket.status == TicketStatus.ACTIVE, Ticket.event_at > query.now]
        if query.event_type is not None:
            conditions.append(Ticket.event_type == query.event_type)
        if query.city_id is not None:
            conditions.append(Ticket.city_id == query.city_id)
        conditions.extend(
            Ticket.event_name_folded.like(like_contains(word), escape=LIKE_ESCAPE) for word in query.words
        )
        ids = await self._rare_name_ids(query.words)
        if ids is not None:
            conditions.append(Ticket.id.in_(ids))
        return conditions

    @staticmethod
    def _edge(key: Key) -> ColumnElement[Any]:
        created_at = bindparam(None, key.created_at, type_=Ticket.__table__.c.created_at.type)
        return tuple_(created_at, literal(key.ticket_id))

    async def older(self, query: FeedQuery, key: Key | None, limit: int, *, inclusive: bool = False) -> list[Ticket]:
        """Up to `limit` tickets after `key` in feed order (older listings), newest first; from the top when
        `key` is None. `inclusive` starts at `key` itself."""
        conditions = await self._filtered(query)
        if key is not None:
            position = tuple_(Ticket.created_at, Ticket.id)
            conditions.append(position <= self._edge(key) if inclusive else position < self._edge(key))
        statement = select(Ticket).where(*conditions).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def newer(self, query: FeedQuery, key: Key | None, limit: int) -> list[Ticket]:
        """Up to `limit` tickets before `key` in feed order (newer listings), newest first; from the bottom of the
        feed (the oldest listings) when `key` is None."""
        conditions = await self._filtered(query)
        if key is not None:
            conditions.append(tuple_(Ticket.created_at, Ticket.id) > self._edge(key))
        statement = select(Ticket).where(*conditions).order_by(Ticket.created_at, Ticket.id).limit(limit)
        return list(reversed((await self.session.execute(statement)).scalars().all()))
