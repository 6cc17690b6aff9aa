"""outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:40:00

The durable outbox (what must reach a person, written with the state change and sent by a worker that retries)
and the findings of reconciliation with Telegram's own payment record (getStarTransactions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=128), nullable=False),
        sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'dead', name='outboxstatus', native_enum=False,
                                    length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('steps_done', sa.Integer(), nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=255), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key')),
    )
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['status', 'next_attempt_at'], unique=False)
    op.create_table(
        'reconcile_findings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charge_id', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('detail', sa.String(length=255), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_reconcile_findings_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_findings')),
    )
    op.create_index('uq_reconcile_findings_charge_kind', 'reconcile_findings', ['charge_id', 'kind'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_reconcile_findings_charge_kind', table_name='reconcile_findings')
    op.drop_table('reconcile_findings')
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages')
    op.drop_table('outbox_messages')
