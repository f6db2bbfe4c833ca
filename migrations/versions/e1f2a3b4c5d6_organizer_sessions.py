"""organizer sign-ins kept on the server, so that signing out ends them

Revision ID: e1f2a3b4c5d6
Revises: d7e8f9a0b1c2
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1f2a3b4c5d6'
down_revision = 'd7e8f9a0b1c2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'organizer_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organizer_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organizer_id'], ['organizers.id'],
            name=op.f('fk_organizer_sessions_organizer_id_organizers'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organizer_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_organizer_sessions_token_hash')),
    )
    with op.batch_alter_table('organizer_sessions', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_organizer_sessions_organizer_id'), ['organizer_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('organizer_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizer_sessions_organizer_id'))
    op.drop_table('organizer_sessions')
