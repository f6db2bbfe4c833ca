"""the room-wide vote on the evening's themes

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-12-06 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9d0e1f2a3b4'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_vote', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table(
        'room_ballots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('table_id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('points', sa.JSON(), nullable=False),
        sa.Column('vote', sa.BigInteger(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_room_ballots_participant_id_participants'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['table_id'], ['tables.id'], name=op.f('fk_room_ballots_table_id_tables')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_ballots')),
        sa.UniqueConstraint('participant_id', name=op.f('uq_room_ballots_participant_id')),
    )
    with op.batch_alter_table('room_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_ballots_table_id'), ['table_id'], unique=False)


def downgrade():
    with op.batch_alter_table('room_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_ballots_table_id'))
    op.drop_table('room_ballots')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('room_vote')
