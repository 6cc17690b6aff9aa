"""the message Buy was pressed on (issue 9)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:20:00

orders.buy_chat_id, orders.buy_message_id and orders.buy_view: the buyer's message that carried Buy, redrawn once the
payment is recorded so it no longer offers the ticket they bought. Null for every earlier order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Not in batch mode: on SQLite that rebuilds `orders` and drops the sales triggers of 0006 (SQLite adds and drops a
# column in place).
def upgrade() -> None:
    op.add_column("orders", sa.Column("buy_chat_id", sa.BigInteger(), nullable=True))
    op.add_column("orders", sa.Column("buy_message_id", sa.BigInteger(), nullable=True))
    op.add_column("orders", sa.Column("buy_view", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "buy_view")
    op.drop_column("orders", "buy_message_id")
    op.drop_column("orders", "buy_chat_id")
