"""ideas: only the indexes a post must write (issue 17)

A table's and an author's ideas are found through the two unique
constraints, which start with those columns; the clusters' index holds only
the grouped ideas.

Revision ID: d2e3f4a5b6c7
Revises: d1e2f3a4b5c6
Create Date: 2026-12-06 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2e3f4a5b6c7'
down_revision = 'd1e2f3a4b5c6'
branch_labels = None
depends_on = None

GROUPED = sa.text("cluster_id IS NOT NULL")


def upgrade():
    op.drop_index('ix_ideas_table_id', table_name='ideas')
    op.drop_index('ix_ideas_participant_id', table_name='ideas')
    op.drop_index('ix_ideas_cluster_id', table_name='ideas')
    op.create_index(
        'ix_ideas_cluster_id', 'ideas', ['cluster_id'], sqlite_where=GROUPED, postgresql_where=GROUPED
    )


def downgrade():
    op.drop_index('ix_ideas_cluster_id', table_name='ideas')
    op.create_index('ix_ideas_cluster_id', 'ideas', ['cluster_id'])
    op.create_index('ix_ideas_participant_id', 'ideas', ['participant_id'])
    op.create_index('ix_ideas_table_id', 'ideas', ['table_id'])
