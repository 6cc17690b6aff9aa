"""ticket documents: what the seller sent and the PDF's page (issue 14)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:00:00

tickets.document_kind (photo, pdf, pass; every earlier ticket is a photo) and tickets.document_page.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in batch mode: on SQLite that rebuilds `tickets` and drops the search and sales triggers of 0006.
    op.add_column("tickets", sa.Column("document_kind", sa.String(length=8), server_default="photo", nullable=False))
    op.add_column("tickets", sa.Column("document_page", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("document_page")
        batch.drop_column("document_kind")
