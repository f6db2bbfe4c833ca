"""secret links to an evening's synthesis desk

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-06 07:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'desk_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_desk_links_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_desk_links_token_hash')),
    )
    with op.batch_alter_table('desk_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_links_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('desk_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_links_event_id'))
    op.drop_table('desk_links')
