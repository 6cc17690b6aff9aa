"""What one click costs the database, counted with SQLAlchemy's engine events around the real bot: reading the FSM
state in the update's own session, no write on a read path, at most one COMMIT per update (none for a read on
SQLite)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.e2e.conftest import Harness
from tests.e2e.market import list_tickets, open_feed

WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def counted(h: Harness) -> Iterator[Counter[str]]:
    """Statements, writes, transactions begun and COMMITs the bot runs inside the block."""
    assert h.app is not None
    engine = h.app.engine.sync_engine
    counts: Counter[str] = Counter()

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        counts["statements"] += 1
        counts["writes"] += sql.lstrip().upper().startswith(WRITES)

    def begin(conn: Any) -> None:
        counts["transactions"] += 1

    def commit(conn: Any) -> None:
        counts["commits"] += 1

    listeners = [("before_cursor_execute", statement), ("begin", begin), ("commit", commit)]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield counts
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


async def test_opening_the_feed_and_turning_a_page_write_nothing(harness: Harness) -> None:
    h = harness
    seller, buyer = h.person(7401, "Sveta"), h.person(7402, "Boris")
    await h.register(seller)
    await h.register(buyer)
    await list_tickets(h, seller, event_name="Сплин")
    await open_feed(buyer, timeout=30)  # the first drawing warms what is loaded once
    await h.emu.wait_idle()

    with counted(h) as feed:
        page = await open_feed(buyer, timeout=30)
        await h.emu.wait_idle()
    with counted(h) as again:
        await buyer.click(page, "Buy 1")
        await h.emu.wait_idle()
    print(f"\n[{h.settings.database_url.split(':')[0]}] /feed: {dict(feed)}; Buy: {dict(again)}")
    assert feed["writes"] == 0, feed
    # The FSM state is read in the update's own session: one transaction on PostgreSQL (its COMMIT gives the
    # connection back); on SQLite none at all (db.direct reads outside a transaction while nobody writes).
    postgresql = h.settings.database_url.startswith("postgresql")
    assert feed["transactions"] == feed["commits"] == (1 if postgresql else 0), feed
    assert again["commits"] <= 2, again  # the hold committed before the invoice goes out, nothing after
