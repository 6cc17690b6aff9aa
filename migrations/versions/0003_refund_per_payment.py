"""refund per payment

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:40:00

A refund row per payment (its Telegram charge id) instead of per order: a bounced second payment and a later
dispute refund of the same order are two refunds; a payment for no known order gets one too. Each row keeps the
charge it gives back and its payer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('telegram_payment_charge_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('provider_payment_charge_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('payer_telegram_id', sa.BigInteger(), nullable=True))
        batch_op.drop_constraint('uq_refunds_order_id', type_='unique')
        batch_op.alter_column('order_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_refunds_telegram_payment_charge_id'),
                                          ['telegram_payment_charge_id'])
    # Rows from before: the order's buyer paid; the charge is the order's only where no other payment sold it.
    op.execute(
        "UPDATE refunds SET payer_telegram_id = (SELECT users.telegram_id FROM orders JOIN users"
        " ON users.id = orders.buyer_id WHERE orders.id = refunds.order_id)"
    )
    op.execute(
        "UPDATE refunds SET telegram_payment_charge_id = (SELECT orders.telegram_payment_charge_id FROM orders"
        " WHERE orders.id = refunds.order_id AND orders.status = 'refunded')"
    )


def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_refunds_telegram_payment_charge_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))
        batch_op.alter_column('order_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_refunds_order_id', ['order_id'])
        batch_op.drop_column('payer_telegram_id')
        batch_op.drop_column('provider_payment_charge_id')
        batch_op.drop_column('telegram_payment_charge_id')
