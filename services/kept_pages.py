"""Feed pages kept in memory while nothing they show has changed.

The same few pages fill most screens: the first page with no filter or with the viewer's city, and the next
pages after them, opened by every viewer in turn. A page read from the database is kept with the feed's version
(one number, grown by database triggers on every change to what a page shows: migration 0010) and the moment it was
read at; it is given again, without reading the tickets, sellers and events, while the version is the same and no
event among its rows has started. Reading the version is one primary-key lookup. A transaction that has written
anything reads from the database (`FeedRepository.version` gives None). Every bot instance keeps its own pages and
reads the shared version, so none shows a page that another one has changed. A page read again after a change
elsewhere in the feed that shows just what the kept one showed stays that object, drawn already."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from db.direct import loaded_columns
from db.repo import Repo
from services import events
from services.feed import FeedPage, Filters, PageRef, load_page

KEPT = 1024  # pages kept per database, the least recently given dropped first


@dataclass(frozen=True)
class _Kept:
    version: int
    since: datetime  # read at this moment: good from it until page.until
    page: FeedPage

    def good(self, version: int, now: datetime) -> bool:
        until = self.page.until
        return version == self.version and self.since <= now and (until is None or now < until)


async def cached_page(repo: Repo, filters: Filters, ref: PageRef, now: datetime) -> FeedPage:
    """`load_page` with the other tickets of each card's event (FeedPage.more), from memory when it is kept and
    still good (module docs)."""
    version = await repo.feed.version()
    kept = repo.feed.kept()
    key = (filters, ref)
    if version is not None:
        hit = kept.get(key)
        if isinstance(hit, _Kept) and hit.good(version, now):
            kept.move_to_end(key)
            return hit.page
    page = await load_page(repo, filters, ref, now)
    page = replace(page, more=await events.more_for_cards(repo, [card.ticket for card in page.cards], now))
    # The cards' tickets, and those of seats sold together, are detached copies (db.direct): safe to keep.
    if version is not None:
        stale = kept.get(key)
        # A change elsewhere in the feed grew the version: the page as kept shows what was just read, and it has
        # been drawn already (handlers/feed/pages.py).
        page = stale.page if isinstance(stale, _Kept) and _same(stale.page, page) else replace(page, kept=True)
        kept[key] = _Kept(version, now, page)
        kept.move_to_end(key)
        while len(kept) > KEPT:
            kept.popitem(last=False)
    return page


def _same(kept: FeedPage, read: FeedPage) -> bool:
    """Whether a page just read shows what a kept one shows: the same tickets (and seats sold together), column for
    column, the same sellers' records, events' other tickets, neighbours and end."""
    return (
        _around(kept) == _around(read)
        and len(kept.cards) == len(read.cards)
        and all(
            old.seller == new.seller
            and loaded_columns(old.ticket) == loaded_columns(new.ticket)
            and list(map(loaded_columns, old.unit)) == list(map(loaded_columns, new.unit))
            for old, new in zip(kept.cards, read.cards, strict=True)
        )
    )


def _around(page: FeedPage) -> tuple[object, ...]:
    return page.has_newer, page.has_older, page.until, page.more
