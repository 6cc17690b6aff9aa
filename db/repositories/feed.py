"""The feed's queries: tickets on sale, newest listing first, keyset-paginated on (created_at, id).

A page is one range scan of an ix_tickets_feed* index from the page's edge, LIMIT n: its cost does not grow with
the number of tickets (no OFFSET, no COUNT).

A search by name keeps the rule `event_name_folded LIKE '%word%'` for every word, and an index finds the few rows
of a rare word (migration 0006): on PostgreSQL the planner seeks the pg_trgm GIN index by itself; on SQLite the
FTS5 trigram table gives the ids of the tickets holding every word of 3+ characters, and when they are few
(RARE or fewer) the page reads just those rows; a common word walks the feed index instead, where matches are
dense and the scan stops after a few rows."""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Integer, String, bindparam, column, func, literal_column, select, table, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.direct import Direct, has_written
from db.models import EventType, FeedVersion, GroupMode, ListingGroup, Ticket, TicketStatus

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


# What the feed's readers keep in memory, one store per database (its engine): a test's or a second bot's database
# never sees another's pages.
_KEPT: WeakKeyDictionary[Engine, OrderedDict[Hashable, Any]] = WeakKeyDictionary()


class FeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def version(self) -> int | None:
        """The feed's version (feed_version, kept by triggers: migration 0010); None when this transaction has
        written anything. A page it reads then must come from the database and stay out of memory: its writes may
        yet roll back (and SQLite's triggers have counted them already), and PostgreSQL counts them only once they
        commit."""
        written = await has_written(self.session)
        if written:
            return None
        if written is None:  # PostgreSQL: the server says whether the transaction wrote, with the version
            rows = await _VERSION_WRITTEN.rows(self.session, {})
            return int(rows[0][0]) if rows and not rows[0][1] else None
        rows = await _VERSION.rows(self.session, {})
        return int(rows[0][0]) if rows else None  # no row (a database emptied by hand): nothing kept

    def kept(self) -> OrderedDict[Hashable, Any]:
        """The store of what the feed's readers keep in memory for this database (services.kept_pages)."""
        bind = self.session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        store = _KEPT.get(engine)
        if store is None:
            store = _KEPT[engine] = OrderedDict()
        return store

    async def _rare_name_ids(self, words: tuple[str, ...]) -> list[int] | None:
        """SQLite: the ids of the tickets whose folded name holds every word of 3+ characters, from the FTS5
        trigram table (a superset of the LIKE rule's rows), when there are at most RARE; else None."""
        seekable = [word for word in words if len(word) >= TRIGRAM]
        if not seekable or self.session.get_bind().dialect.name != "sqlite":
            return None
        match = " AND ".join('"' + word.replace('"', '""') + '"' for word in seekable)
        ids = [row[0] for row in await _RARE.rows(self.session, {"match": match, "limit": RARE + 1})]
        return ids if len(ids) <= RARE else None

    async def _page(self, query: FeedQuery, key: Key | None, limit: int, edge: _Edge) -> list[Ticket]:
        ids = await self._rare_name_ids(query.words)
        statement = _page_statement(
            edge if key is not None else None,
            newest_first=edge is not _Edge.ABOVE,
            typed=query.event_type is not None,
            placed=query.city_id is not None,
            words=len(query.words),
            by_ids=ids is not None,
        )
        params: dict[str, Any] = {"now": query.now, "limit": limit}
        if query.event_type is not None:
            params["type"] = query.event_type
        if query.city_id is not None:
            params["city"] = query.city_id
        params.update((f"word{n}", like_contains(word)) for n, word in enumerate(query.words))
        if ids is not None:
            params["ids"] = ids
        if key is not None:
            params.update(at=key.created_at, id=key.ticket_id)
        return await statement.objects(self.session, Ticket, params)

    async def older(self, query: FeedQuery, key: Key | None, limit: int, *, inclusive: bool = False) -> list[Ticket]:
        """Up to `limit` tickets after `key` in feed order (older listings), newest first; from the top when
        `key` is None. `inclusive` starts at `key` itself."""
        return await self._page(query, key, limit, _Edge.AT_OR_BELOW if inclusive else _Edge.BELOW)

    async def together(self, group_ids: list[int]) -> dict[int, list[Ticket]]:
        """The tickets of each of these groups whose seats are sold together (every status, by id: the first is the
        card's), as detached copies, in one statement; a group sold otherwise is not among them."""
        if not group_ids:
            return {}
        units: dict[int, list[Ticket]] = {}
        for ticket in await _TOGETHER.objects(self.session, Ticket, {"groups": sorted(set(group_ids))}):
            assert ticket.group_id is not None  # joined on it
            units.setdefault(ticket.group_id, []).append(ticket)
        return units

    async def newer(self, query: FeedQuery, key: Key | None, limit: int) -> list[Ticket]:
        """Up to `limit` tickets before `key` in feed order (newer listings), newest first; from the bottom of the
        feed (the oldest listings) when `key` is None."""
        return list(reversed(await self._page(query, key, limit, _Edge.ABOVE)))


_TOGETHER = Direct(
    select(Ticket)
    .join(ListingGroup, ListingGroup.id == Ticket.group_id)
    .where(Ticket.group_id.in_(bindparam("groups", expanding=True)), ListingGroup.mode == GroupMode.TOGETHER)
    .order_by(Ticket.group_id, Ticket.id)
)
_VERSION = Direct(select(FeedVersion.version).where(FeedVersion.id == 1))
_VERSION_WRITTEN = Direct(
    select(FeedVersion.version, func.pg_current_xact_id_if_assigned().is_not(None)).where(FeedVersion.id == 1)
)
_FTS = table("tickets_fts", column("rowid", Integer()))  # SQLite only (migration 0006): FTS5 trigram over the names
_RARE = Direct(
    select(_FTS.c.rowid)
    .where(literal_column(_FTS.name).op("MATCH")(bindparam("match", type_=String())))
    .limit(bindparam("limit", type_=Integer()))
)


class _Edge(enum.Enum):
    """Which side of a page's key the rows are on, in feed order (newest first)."""

    BELOW = "below"  # older listings: Next
    AT_OR_BELOW = "at or below"  # the page from the key itself: a redraw
    ABOVE = "above"  # newer listings: Previous and the probe for a newer page


@lru_cache(maxsize=128)
def _page_statement(
    edge: _Edge | None, *, newest_first: bool, typed: bool, placed: bool, words: int, by_ids: bool
) -> Direct:
    """The page query for one shape of filters, built once with its values as bound parameters (`now`, `limit`,
    `type`, `city`, `word0`..., `ids`, the key's `at` and `id`) and compiled once per dialect (db.direct): a page
    only binds them. `edge` None: from the top (newest first) or the
    bottom of the feed."""
    columns = Ticket.__table__.c
    conditions: list[ColumnElement[bool]] = [
        Ticket.status == TicketStatus.ACTIVE,
        Ticket.event_at > bindparam("now", type_=columns.event_at.type),
    ]
    if typed:
        conditions.append(Ticket.event_type == bindparam("type", type_=columns.event_type.type))
    if placed:
        conditions.append(Ticket.city_id == bindparam("city", type_=columns.city_id.type))
    conditions.extend(
        Ticket.event_name_folded.like(bindparam(f"word{n}", type_=columns.event_name_folded.type), escape=LIKE_ESCAPE)
        for n in range(words)
    )
    if by_ids:
        conditions.append(Ticket.id.in_(bindparam("ids", expanding=True)))
    position = tuple_(Ticket.created_at, Ticket.id)
    key = tuple_(bindparam("at", type_=columns.created_at.type), bindparam("id", type_=columns.id.type))
    if edge is _Edge.BELOW:
        conditions.append(position < key)
    elif edge is _Edge.AT_OR_BELOW:
        conditions.append(position <= key)
    elif edge is _Edge.ABOVE:
        conditions.append(position > key)
    return Direct(
        select(Ticket)
        .where(*conditions)
        .order_by(*((Ticket.created_at.desc(), Ticket.id.desc()) if newest_first else (Ticket.created_at, Ticket.id)))
        .limit(bindparam("limit", type_=Integer()))
    )
