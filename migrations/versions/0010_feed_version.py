"""the feed's version: pages kept in memory while nothing they show has changed (issue 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:40:00

feed_version holds one row whose number grows with every change to what a feed page shows: a ticket (any column:
its status, price, seat, group), a listing group, and of the sellers named on the cards their first name, their
sales (users.completed_sales, itself kept by the triggers of 0006), their ratings and the disputes refunded against
them. Database triggers keep it, so every write path counts, raw SQL included, and every instance of the bot sharing
the database reads the same number (services.kept_pages.cached_page).

On PostgreSQL the triggers are constraint triggers deferred to the commit: the row is locked only while a
transaction commits, never while it goes on to lock tickets (a lock taken at its first ticket would make two
transactions over the same tickets deadlock), and the number a reader sees changes in the same instant as the rows
it stands for. A transaction bumps it once (a transaction-local setting), however many rows it touched.

A later migration that rebuilds one of these tables in batch mode on SQLite (a copy and rename) drops its triggers:
create them again there (tests/test_feed_cache.py checks them at head).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the events on it that change a feed page
_EVENTS: dict[str, tuple[str, ...]] = {
    "tickets": ("INSERT", "UPDATE", "DELETE"),
    "listing_groups": ("INSERT", "UPDATE", "DELETE"),
    "ratings": ("INSERT", "UPDATE", "DELETE"),
    "disputes": ("INSERT", "UPDATE OF status", "DELETE"),
    "users": ("UPDATE OF first_name, completed_sales",),
}
_BUMP = "UPDATE feed_version SET version = version + 1"


def _sqlite_name(table: str, event: str) -> str:
    return f"{table}_feed_{event.split()[0].lower()}"


_SQLITE = [
    f"CREATE TRIGGER {_sqlite_name(table, event)} AFTER {event} ON {table} BEGIN {_BUMP}; END"
    for table, events in _EVENTS.items()
    for event in events
]
_SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {_sqlite_name(table, event)}" for table, events in _EVENTS.items() for event in events
]
_POSTGRESQL = [
    f"""
    CREATE FUNCTION feed_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('stroboscope.feed_changed', true) = 'yes' THEN
            RETURN NULL;
        END IF;
        PERFORM set_config('stroboscope.feed_changed', 'yes', true);
        {_BUMP};
        RETURN NULL;
    END
    $$
    """,
    *(
        f"CREATE CONSTRAINT TRIGGER {table}_feed_changed AFTER {' OR '.join(events)} ON {table} "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION feed_changed()"
        for table, events in _EVENTS.items()
    ),
]
_POSTGRESQL_DOWN = [
    *(f"DROP TRIGGER {table}_feed_changed ON {table}" for table in _EVENTS),
    "DROP FUNCTION feed_changed()",
]


def upgrade() -> None:
    op.create_table(
        "feed_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_version")),
    )
    op.execute("INSERT INTO feed_version (id, version) VALUES (1, 0)")
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    for statement in _SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL_DOWN:
        op.execute(statement)
    op.drop_table("feed_version")
