"""search on PostgreSQL: a tsvector per opinion kept in the same transaction

comment_search holds each visible opinion's search document for the PostgreSQL backend
(portal/search/pg.py): the analyzer's tokens as a tsvector with a GIN index, and the facet
values. On SQLite the table is created with plain types and stays empty (Whoosh searches
there). RUM, when installed, is optional: nothing here requires it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    tsv_type = postgresql.TSVECTOR() if pg else sa.Text()
    categories_type = postgresql.ARRAY(sa.Integer()) if pg else sa.JSON()
    op.create_table('comment_search',
    sa.Column('comment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('article', sa.Integer(), nullable=False),
    sa.Column('chapter', sa.Integer(), nullable=False),
    sa.Column('categories', categories_type, nullable=False),
    sa.Column('stance', sa.String(length=32), nullable=False),
    sa.Column('identity', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('liaison_point', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tsv', tsv_type, nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_search_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_comment_search'))
    )
    with op.batch_alter_table('comment_search', schema=None) as batch_op:
        batch_op.create_index('ix_comment_search_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_comment_search_draft_id_created_at', ['draft_id', 'created_at'], unique=False)
        # GIN on PostgreSQL; on SQLite a plain index on an empty table, so that the schema
        # matches the model everywhere.
        batch_op.create_index('ix_comment_search_tsv', ['tsv'], unique=False, postgresql_using='gin')


def downgrade():
    with op.batch_alter_table('comment_search', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_search_tsv', postgresql_using='gin')
        batch_op.drop_index('ix_comment_search_draft_id_created_at')
        batch_op.drop_index('ix_comment_search_created_at')
    op.drop_table('comment_search')
