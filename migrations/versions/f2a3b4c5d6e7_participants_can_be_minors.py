"""participants can be minors, with a parent's consent recorded

Revision ID: f2a3b4c5d6e7
Revises: f3a9c1d2e4b7
Create Date: 2026-12-05 13:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2a3b4c5d6e7'
down_revision = 'f3a9c1d2e4b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('minor', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('guardian_consent_by', sa.String(length=200), nullable=False,
                      server_default='')
        )
        batch_op.add_column(
            sa.Column('guardian_consent_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('guardian_consent_at')
        batch_op.drop_column('guardian_consent_by')
        batch_op.drop_column('minor')
