"""apart_pairs: two ideas the synthesis team said are not the same (issue 18)

Revision ID: e3f4a5b6c7d8
Revises: d2e3f4a5b6c7
Create Date: 2026-12-06 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3f4a5b6c7d8'
down_revision = 'd2e3f4a5b6c7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'apart_pairs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('idea_a', sa.Integer(), nullable=False),
        sa.Column('idea_b', sa.Integer(), nullable=False),
        sa.Column('apart', sa.Boolean(), nullable=False),
        sa.Column('said_by', sa.String(length=40), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_apart_pairs_event_id_events')),
        sa.ForeignKeyConstraint(['idea_a'], ['ideas.id'], name=op.f('fk_apart_pairs_idea_a_ideas')),
        sa.ForeignKeyConstraint(['idea_b'], ['ideas.id'], name=op.f('fk_apart_pairs_idea_b_ideas')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_apart_pairs')),
        sa.UniqueConstraint('event_id', 'idea_a', 'idea_b', name=op.f('uq_apart_pairs_event_id')),
    )


def downgrade():
    op.drop_table('apart_pairs')
