"""the evening's own stream of changes, and its first entities: themes

Revision ID: a7b8c9d0e1f2
Revises: f2a3b4c5d6e7
Create Date: 2026-12-06 03:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7b8c9d0e1f2'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seq', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'themes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('idea_ids', sa.JSON(), nullable=False),
        sa.Column('suggested', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=40), nullable=False),
        sa.Column('accepted_by', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_themes_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_themes')),
    )
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themes_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themes_event_id'))
    op.drop_table('themes')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('last_seq')
