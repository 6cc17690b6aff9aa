"""The feed: tickets on sale, newest listing first, a page at a time with keyset pagination; filters by event
type, city and words of the event name."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db.models import EventType, Ticket
from db.repo import Repo
from db.repositories.events import MoreTickets
from db.repositories.feed import FeedQuery, Key
from db.repositories.trust import SellerRecord
from services import groups, ratings

PAGE_SIZE = 5
QUERY_MAX = 60


_MARKS = re.compile("[\u0300-\u036f]")


def fold(text: str) -> str:
    """The folding of tickets.event_name_folded: case-folded, ё -> е, diacritics dropped (é -> e, but й stays й),
    runs of spaces -> one space."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ё", "е").replace("й", "\x00"))
    return " ".join(_MARKS.sub("", text).replace("\x00", "й").split())


class Direction(enum.StrEnum):
    AT = "a"  # the page starting at the key (redraw)
    OLDER = "o"  # the page after the key (Next)
    NEWER = "n"  # the page before the key (Previous)


@dataclass(frozen=True)
class PageRef:
    """Where a page is: the first page (no key), or relative to a ticket's place in the feed."""

    key: Key | None = None
    direction: Direction = Direction.AT


@dataclass(frozen=True)
class Filters:
    event_type: EventType | None = None
    city_id: int | None = None
    text: str | None = None

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(fold(self.text).split()) if self.text else ()

    @property
    def active(self) -> bool:
        return self != Filters()

    def to_data(self) -> dict[str, Any]:
        return {"type": self.event_type and self.event_type.value, "city": self.city_id, "text": self.text}

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Filters:
        data = data or {}
        kind = data.get("type")
        return cls(
            event_type=EventType(kind) if isinstance(kind, str) and kind in EventType._value2member_map_ else None,
            city_id=data.get("city") if isinstance(data.get("city"), int) else None,
            text=data.get("text") or None,
        )


def clean_search(text: str) -> str | None:
    """What the user typed for a search, or None when it has no letter or digit to search for."""
    cleaned = " ".join(text.split())[:QUERY_MAX]
    return cleaned if any(ch.isalnum() for ch in cleaned) else None


@dataclass(frozen=True)
class FeedCard:
    ticket: Ticket
    seller: SellerRecord  # name, sales, ratings: what the card says of its seller
    unit: tuple[Ticket, ...] = ()  # seats sold together: every ticket of the group (the card is its lead's)


@dataclass(frozen=True, eq=False)  # hashed by identity: a page kept in memory (services.kept_pages) is drawn once
class FeedPage:
    cards: list[FeedCard]
    has_newer: bool
    has_older: bool
    # The earliest start of the events among the rows the page was read from: at that moment one leaves the feed
    # and the page may change. None when it read none.
    until: datetime | None = None
    more: dict[int, MoreTickets] = field(default_factory=dict)  # the other tickets of each card's event, when asked
    kept: bool = False  # held in memory for the next viewers (services.kept_pages): the same object for all of them

    @property
    def first(self) -> Key | None:
        return key_of(self.cards[0].ticket) if self.cards else None

    @property
    def last(self) -> Key | None:
        return key_of(self.cards[-1].ticket) if self.cards else None


def key_of(ticket: Ticket) -> Key:
    return Key(ticket.created_at, ticket.id)


async def load_page(repo: Repo, filters: Filters, ref: PageRef, now: datetime, *, size: int = PAGE_SIZE) -> FeedPage:
    """One page of the feed. Each step is an index range scan from a key with a LIMIT, whatever the page's
    depth. When the tickets around a stale key are gone, the nearest full page is shown instead."""
    read = _Read(repo, FeedQuery(now, filters.event_type, filters.city_id, filters.words))
    if ref.key is not None and ref.direction == Direction.NEWER:
        tickets = await read.newer(ref.key, size + 1)
        if len(tickets) > size:
            has_older = bool(await read.older(key_of(tickets[-1]), 1))
            return await read.page(tickets[1:], has_newer=True, has_older=has_older)
        # Fewer than a page above the key: the first page.
        return await load_page(repo, filters, PageRef(), now, size=size)
    newer_known = False
    if ref.key is not None and ref.direction == Direction.OLDER:
        # Next reads from the key's own ticket, one row more: while it is still in the feed (the last card of the
        # page before, as a rule) it is newer than this page, and the page needs no "anything newer?" probe.
        tickets = await read.older(ref.key, size + 2, inclusive=True)
        if tickets and tickets[0].id == ref.key.ticket_id:
            tickets, newer_known = tickets[1:], True
        else:
            tickets = tickets[: size + 1]
    else:
        tickets = await read.older(ref.key, size + 1, inclusive=ref.direction == Direction.AT)
    if not tickets and ref.key is not None:  # everything below the key is gone: the last page
        tickets = await read.newer(None, size + 1)
        return await read.page(tickets[-size:], has_newer=len(tickets) > size, has_older=False)
    # From the top (no key) nothing is newer: the probe is needed only below a key.
    has_newer = bool(tickets) and ref.key is not None and (newer_known or bool(await read.newer(key_of(tickets[0]), 1)))
    return await read.page(tickets[:size], has_newer=has_newer, has_older=len(tickets) > size)


@dataclass
class _Read:
    """The reads of one page: the feed's rows for its query, noting the earliest event among them (FeedPage.until)."""

    repo: Repo
    query: FeedQuery
    until: datetime | None = None

    def _seen(self, tickets: list[Ticket]) -> list[Ticket]:
        for ticket in tickets:
            if self.until is None or ticket.event_at < self.until:
                self.until = ticket.event_at
        return tickets

    async def older(self, key: Key | None, limit: int, *, inclusive: bool = False) -> list[Ticket]:
        return self._seen(await self.repo.feed.older(self.query, key, limit, inclusive=inclusive))

    async def newer(self, key: Key | None, limit: int) -> list[Ticket]:
        return self._seen(await self.repo.feed.newer(self.query, key, limit))

    async def page(self, tickets: list[Ticket], *, has_newer: bool, has_older: bool) -> FeedPage:
        repo = self.repo
        sellers = await ratings.seller_records(repo, [ticket.seller_id for ticket in tickets])
        grouped = await repo.feed.together([ticket.group_id for ticket in tickets if ticket.group_id is not None])
        units = {group_id: groups.together(group_id, seats) for group_id, seats in grouped.items()}
        cards = []
        for ticket in tickets:
            unit = units.get(ticket.group_id) if ticket.group_id is not None else None
            if unit is None:
                cards.append(FeedCard(ticket, sellers[ticket.seller_id]))
            elif unit.lead.id == ticket.id:  # seats sold together: one card, their lead's
                cards.append(FeedCard(ticket, sellers[ticket.seller_id], tuple(unit.tickets)))
        return FeedPage(cards, has_newer=has_newer, has_older=has_older, until=self.until)
