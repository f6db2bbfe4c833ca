"""steps are live entities: each carries the sequence number of its latest change

Revision ID: c5d1e2f3a4b5
Revises: 776d2ad73968
Create Date: 2026-11-30 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5d1e2f3a4b5'
down_revision = '776d2ad73968'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.drop_column('seq')
