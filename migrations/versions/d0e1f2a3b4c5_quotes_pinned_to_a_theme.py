"""quotes pinned to a theme

Revision ID: d0e1f2a3b4c5
Revises: c9d0e1f2a3b4
Create Date: 2026-12-06 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0e1f2a3b4c5'
down_revision = 'c9d0e1f2a3b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pinned', sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_column('pinned')
