"""submissions: idempotency key for batches sent through the API

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            'uq_submissions_idempotency', ['liaison_point_id', 'idempotency_key']
        )


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_submissions_idempotency', type_='unique')
        batch_op.drop_column('idempotency_key')
