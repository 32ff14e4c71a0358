"""comments: client_hash (address + User-Agent) becomes submitter_hash (account or browser)

Repeats are recognised only as the same submitter repeating themselves; an address is shared
by households, offices and carrier NATs. The old values hashed an address and a browser
version, which identify no submitter, so they are cleared rather than carried over.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.alter_column(
            'client_hash',
            new_column_name='submitter_hash',
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
    op.execute("UPDATE comments SET submitter_hash = ''")


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.alter_column(
            'submitter_hash',
            new_column_name='client_hash',
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
