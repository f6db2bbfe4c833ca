"""a theme of the synthesis becomes a project

Revision ID: d1e2f3a4b5c6
Revises: d0e1f2a3b4c5
Create Date: 2026-12-06 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1e2f3a4b5c6'
down_revision = 'd0e1f2a3b4c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_projects_theme_id'), ['theme_id'])
        batch_op.create_foreign_key(batch_op.f('fk_projects_theme_id_themes'), 'themes', ['theme_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_projects_theme_id_themes'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_projects_theme_id'), type_='unique')
        batch_op.drop_column('theme_id')
