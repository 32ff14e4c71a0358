"""tallies: opinions and participants per draft and article, kept as opinions arrive

Four tables (portal/models/tallies.py): a tally per draft and per article (opinions, distinct
online participants, liaison people raised by) and the participant keys each one has. The
upgrade fills them from the comments with the definition of portal/figures.py as it stands at
this revision (counted: online and API opinions, liaison ones once their batch is submitted;
people: distinct participant keys of online and API opinions + raised_by of liaison ones), so
an upgraded database shows the same numbers as before. `flask portal rebuild-tallies` does the
same from the code at any later time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


COUNTED = (
    "(c.submission_id IS NULL OR c.submission_id IN "
    "(SELECT s.id FROM submissions s WHERE s.status = 'submitted'))"
)
PARTICIPANT = "CASE WHEN c.submission_id IS NULL THEN c.participant_key END"
RAISED_BY = "CASE WHEN c.submission_id IS NOT NULL THEN c.raised_by ELSE 0 END"


def upgrade():
    op.create_table('draft_tallies',
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('opinions', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], name=op.f('fk_draft_tallies_draft_id_drafts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('draft_id', name=op.f('pk_draft_tallies'))
    )
    op.create_table('article_tallies',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('opinions', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_tallies_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], name=op.f('fk_article_tallies_draft_id_drafts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_tallies'))
    )
    with op.batch_alter_table('article_tallies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_tallies_draft_id'), ['draft_id'], unique=False)

    op.create_table('draft_participants',
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('participant_key', sa.String(length=64), nullable=False),
    sa.Column('opinions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], name=op.f('fk_draft_participants_draft_id_drafts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('draft_id', 'participant_key', name=op.f('pk_draft_participants'))
    )
    op.create_table('article_participants',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('participant_key', sa.String(length=64), nullable=False),
    sa.Column('opinions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_participants_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'participant_key', name=op.f('pk_article_participants'))
    )

    # Backfill: the same aggregates portal.tallies.rebuild() computes.
    op.execute(
        "INSERT INTO draft_tallies (draft_id, opinions, participants, raised_by) "
        f"SELECT c.draft_id, COUNT(c.id), COUNT(DISTINCT {PARTICIPANT}), "
        f"COALESCE(SUM({RAISED_BY}), 0) "
        f"FROM comments c WHERE {COUNTED} GROUP BY c.draft_id"
    )
    op.execute(
        "INSERT INTO article_tallies (article_id, draft_id, opinions, participants, raised_by) "
        f"SELECT c.article_id, c.draft_id, COUNT(c.id), COUNT(DISTINCT {PARTICIPANT}), "
        f"COALESCE(SUM({RAISED_BY}), 0) "
        f"FROM comments c WHERE {COUNTED} AND c.article_id IS NOT NULL "
        "GROUP BY c.article_id, c.draft_id"
    )
    op.execute(
        "INSERT INTO draft_participants (draft_id, participant_key, opinions) "
        "SELECT c.draft_id, c.participant_key, COUNT(c.id) "
        f"FROM comments c WHERE {COUNTED} AND c.submission_id IS NULL "
        "GROUP BY c.draft_id, c.participant_key"
    )
    op.execute(
        "INSERT INTO article_participants (article_id, participant_key, opinions) "
        "SELECT c.article_id, c.participant_key, COUNT(c.id) "
        f"FROM comments c WHERE {COUNTED} AND c.submission_id IS NULL "
        "AND c.article_id IS NOT NULL GROUP BY c.article_id, c.participant_key"
    )


def downgrade():
    op.drop_table('article_participants')
    op.drop_table('draft_participants')
    with op.batch_alter_table('article_tallies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_tallies_draft_id'))

    op.drop_table('article_tallies')
    op.drop_table('draft_tallies')
