"""ticket documents and ownership claims (issues 14 and 9)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:00:00

tickets.document_kind (photo, pdf, pass; every earlier ticket is a photo) and tickets.document_page; claims ("This is
my ticket": ticket, claimant, status, created_at). tickets.status gains "frozen" (a string column: no change).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("claimant_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "upheld", "dismissed", name="claimstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["claimant_id"], ["users.id"], name=op.f("fk_claims_claimant_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_claims_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
    )
    op.create_index("ix_claims_open", "claims", ["status", "created_at"], unique=False)
    op.create_index(op.f("ix_claims_ticket_id"), "claims", ["ticket_id"], unique=False)
    # Not in batch mode: on SQLite that rebuilds `tickets` and drops the search and sales triggers of 0006.
    op.add_column("tickets", sa.Column("document_kind", sa.String(length=8), server_default="photo", nullable=False))
    op.add_column("tickets", sa.Column("document_page", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("document_page")
        batch.drop_column("document_kind")
    op.drop_index(op.f("ix_claims_ticket_id"), table_name="claims")
    op.drop_index("ix_claims_open", table_name="claims")
    op.drop_table("claims")
