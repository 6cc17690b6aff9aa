"""search index and sellers' sales counter

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 21:40:00

A search for a rare word seeks an index instead of walking the feed: an FTS5 trigram table over the folded event
name on SQLite (external content, kept in sync by triggers), a pg_trgm GIN index on PostgreSQL (which answers
LIKE '%word%' itself). The folding now also drops diacritics (Beyoncé -> beyonce; й stays й), so the existing
names are folded again.

Every card shows its seller's completed sales: users.completed_sales, counted from the paid orders here and kept
by triggers on orders (a status moving to or from 'paid') in the transaction of the change, instead of a
correlated COUNT per card.
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARKS = re.compile("[\u0300-\u036f]")


def _fold(text: str) -> str:
    """services.feed.fold as of this revision (frozen here: a migration never imports the project)."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ё", "е").replace("й", "\x00"))
    return " ".join(_MARKS.sub("", text).replace("\x00", "й").split())


_COUNT_SALES = """
    UPDATE users SET completed_sales = (
        SELECT count(*) FROM orders JOIN tickets ON tickets.id = orders.ticket_id
        WHERE tickets.seller_id = users.id AND orders.status = 'paid'
    )
"""
_SELLER = "(SELECT seller_id FROM tickets WHERE id = {row}.ticket_id)"

_SQLITE = [
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(event_name_folded, content='tickets', content_rowid='id', "
    "tokenize='trigram')",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, event_name_folded) VALUES (new.id, new.event_name_folded); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, event_name_folded) VALUES ('delete', old.id, old.event_name_folded); "
    "END",
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF event_name_folded ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, event_name_folded) VALUES ('delete', old.id, old.event_name_folded); "
    "INSERT INTO tickets_fts(rowid, event_name_folded) VALUES (new.id, new.event_name_folded); END",
    "CREATE TRIGGER orders_sale_insert AFTER INSERT ON orders WHEN new.status = 'paid' BEGIN "
    f"UPDATE users SET completed_sales = completed_sales + 1 WHERE id = {_SELLER.format(row='new')}; END",
    "CREATE TRIGGER orders_sale_delete AFTER DELETE ON orders WHEN old.status = 'paid' BEGIN "
    f"UPDATE users SET completed_sales = completed_sales - 1 WHERE id = {_SELLER.format(row='old')}; END",
    "CREATE TRIGGER orders_sale_paid AFTER UPDATE OF status ON orders "
    "WHEN new.status = 'paid' AND old.status != 'paid' BEGIN "
    f"UPDATE users SET completed_sales = completed_sales + 1 WHERE id = {_SELLER.format(row='new')}; END",
    "CREATE TRIGGER orders_sale_unpaid AFTER UPDATE OF status ON orders "
    "WHEN old.status = 'paid' AND new.status != 'paid' BEGIN "
    f"UPDATE users SET completed_sales = completed_sales - 1 WHERE id = {_SELLER.format(row='old')}; END",
]
_SQLITE_DOWN = [
    *(
        f"DROP TRIGGER IF EXISTS {name}"
        for name in ("tickets_fts_insert", "tickets_fts_delete", "tickets_fts_update", "orders_sale_insert",
                     "orders_sale_delete", "orders_sale_paid", "orders_sale_unpaid")
    ),
    "DROP TABLE tickets_fts",
]

_POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # fastupdate off: a new listing goes straight into the index; with GIN's pending list on, every search scans up to
    # 4 MB of recent entries linearly (78 ms at 100K listings just loaded, against 1 ms).
    "CREATE INDEX ix_tickets_name_trgm ON tickets USING gin (event_name_folded gin_trgm_ops) WITH (fastupdate = off)",
    f"""
    CREATE FUNCTION orders_count_sales() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            IF OLD.status = 'paid' THEN
                UPDATE users SET completed_sales = completed_sales - 1 WHERE id = {_SELLER.format(row='OLD')};
            END IF;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            IF NEW.status = 'paid' THEN
                UPDATE users SET completed_sales = completed_sales + 1 WHERE id = {_SELLER.format(row='NEW')};
            END IF;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER orders_count_sales AFTER INSERT OR UPDATE OF status OR DELETE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION orders_count_sales()",
]
_POSTGRESQL_DOWN = [
    "DROP TRIGGER orders_count_sales ON orders",
    "DROP FUNCTION orders_count_sales()",
    "DROP INDEX ix_tickets_name_trgm",
]


def _refold() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, event_name, event_name_folded FROM tickets")).all()
    changed = [{"id": id_, "folded": _fold(name)} for id_, name, folded in rows if _fold(name) != folded]
    if changed:
        bind.execute(sa.text("UPDATE tickets SET event_name_folded = :folded WHERE id = :id"), changed)


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_sales', sa.Integer(), server_default='0', nullable=False))
    _refold()
    op.execute(_COUNT_SALES)
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    for statement in _SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL_DOWN:
        op.execute(statement)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('completed_sales')
