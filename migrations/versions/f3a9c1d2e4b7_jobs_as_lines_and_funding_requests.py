"""jobs as dated lines, a baseline date per project, funding requests

A project's jobs were one figure declared now and then (project_outcomes of
kind "jobs"). Each job is now a line of its own (project_jobs). Upgrading,
each project's last declared jobs figure becomes one line marked as
migrated, as of that figure's date (not before the baseline: the figure
counted jobs since the project was made), with every figure declared before
kept in its ``migrated_from``; the jobs rows leave project_outcomes.
The project's jobs baseline (a figure of 0 on its creation day) becomes its
baseline date and who recorded it.

Downgrading puts the figures back as they were declared; lines added since
are folded into one more jobs figure per project (the FTE of its jobs that
are not volunteers and started on or after its baseline), so that no
declared job is lost either way.

Revision ID: f3a9c1d2e4b7
Revises: a3c4e5f60718
Create Date: 2026-12-05 13:10:00

"""
from datetime import date, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c1d2e4b7'
down_revision = 'a3c4e5f60718'
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, length=32)


projects = sa.table(
    'projects',
    sa.column('id', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('baseline_on', sa.Date),
    sa.column('baseline_by', sa.String),
)
outcomes = sa.table(
    'project_outcomes',
    sa.column('id', sa.Integer),
    sa.column('project_id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('value', sa.Float),
    sa.column('as_of', sa.Date),
    sa.column('declared_by', sa.String),
    sa.column('baseline', sa.Boolean),
    sa.column('checked', sa.Boolean),
    sa.column('checked_by', sa.String),
    sa.column('created_at', sa.DateTime(timezone=True)),
)
jobs = sa.table(
    'project_jobs',
    sa.column('id', sa.Integer),
    sa.column('project_id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('fte', sa.Float),
    sa.column('contract', sa.String),
    sa.column('duration_months', sa.Integer),
    sa.column('employment', sa.String),
    sa.column('volunteer', sa.Boolean),
    sa.column('start_date', sa.Date),
    sa.column('declared_by', sa.String),
    sa.column('declared_at', sa.DateTime(timezone=True)),
    sa.column('checked_by', sa.String),
    sa.column('checked_at', sa.DateTime(timezone=True)),
    sa.column('evidence', sa.Text),
    sa.column('migrated', sa.Boolean),
    sa.column('migrated_from', sa.JSON),
)


def _day(value):
    return value.date() if isinstance(value, datetime) else value


def upgrade():
    # Added in place, never by copying the table (SQLite's batch mode would:
    # with foreign keys on, dropping the old projects table deletes every
    # row that points to it). The default is a placeholder, replaced below.
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('baseline_on', sa.Date(), nullable=False, server_default='1970-01-01')
        )
        batch_op.add_column(
            sa.Column('baseline_by', sa.String(length=200), nullable=False, server_default='')
        )
    op.create_table('project_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', _enum('jobkind', 'created', 'consolidated'), nullable=False),
    sa.Column('fte', sa.Float(), nullable=False),
    sa.Column('contract', _enum('contracttype', 'cdi', 'cdd', 'apprenticeship', 'self_employed', 'other'), nullable=False),
    sa.Column('duration_months', sa.Integer(), nullable=True),
    sa.Column('employment', _enum('employment', 'employee', 'self_employed'), nullable=True),
    sa.Column('volunteer', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('declared_by', sa.String(length=200), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_by', sa.String(length=200), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('migrated', sa.Boolean(), nullable=False),
    sa.Column('migrated_from', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_jobs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_jobs'))
    )
    with op.batch_alter_table('project_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_jobs_project_id'), ['project_id'], unique=False)
    op.create_table('project_funding_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('funder', sa.String(length=200), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('decision', _enum('decision', 'pending', 'granted', 'refused'), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('project_start', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_funding_requests_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_funding_requests'))
    )
    with op.batch_alter_table('project_funding_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_funding_requests_project_id'), ['project_id'], unique=False)

    bind = op.get_bind()
    figures = {}  # project id -> its jobs rows, oldest first
    for row in bind.execute(
        sa.select(outcomes).where(outcomes.c.kind == 'jobs')
        .order_by(outcomes.c.as_of, outcomes.c.id)
    ):
        figures.setdefault(row.project_id, []).append(row)
    for project in bind.execute(sa.select(projects.c.id, projects.c.created_at)).all():
        rows = figures.get(project.id, [])
        baseline = next((r for r in rows if r.baseline), None)
        baseline_on = baseline.as_of if baseline else _day(project.created_at)
        bind.execute(
            projects.update().where(projects.c.id == project.id).values(
                baseline_on=baseline_on, baseline_by=baseline.declared_by if baseline else ''
            )
        )
        declared = [r for r in rows if not r.baseline]
        if not declared:
            continue
        last = declared[-1]
        bind.execute(jobs.insert().values(
            project_id=project.id, kind='created', fte=last.value, contract='other',
            duration_months=None, employment=None, volunteer=False,
            start_date=max(last.as_of, baseline_on), declared_by=last.declared_by,
            declared_at=last.created_at, checked_by=last.checked_by if last.checked else '',
            checked_at=None, evidence='', migrated=True,
            migrated_from=[
                {'value': r.value, 'as_of': r.as_of.isoformat(), 'declared_by': r.declared_by,
                 'checked': bool(r.checked), 'checked_by': r.checked_by,
                 'created_at': r.created_at.isoformat()}
                for r in declared
            ],
        ))
    bind.execute(outcomes.delete().where(outcomes.c.kind == 'jobs'))


def downgrade():
    bind = op.get_bind()
    lines = {}
    for line in bind.execute(sa.select(jobs).order_by(jobs.c.start_date, jobs.c.id)):
        lines.setdefault(line.project_id, []).append(line)
    for project in bind.execute(sa.select(projects)).all():
        bind.execute(outcomes.insert().values(
            project_id=project.id, kind='jobs', value=0.0, as_of=project.baseline_on,
            declared_by=project.baseline_by, baseline=True, checked=False, checked_by='',
            created_at=project.created_at,
        ))
        mine = lines.get(project.id, [])
        for line in mine:
            for figure in line.migrated_from or []:
                bind.execute(outcomes.insert().values(
                    project_id=project.id, kind='jobs', value=figure['value'],
                    as_of=date.fromisoformat(figure['as_of']),
                    declared_by=figure['declared_by'], baseline=False,
                    checked=figure['checked'], checked_by=figure['checked_by'],
                    created_at=datetime.fromisoformat(figure['created_at']),
                ))
        if any(not line.migrated for line in mine):
            counted = [
                line for line in mine
                if not line.volunteer and line.start_date >= project.baseline_on
            ]
            last = mine[-1]
            bind.execute(outcomes.insert().values(
                project_id=project.id, kind='jobs', value=sum(line.fte for line in counted),
                as_of=max(line.start_date for line in mine), declared_by=last.declared_by,
                baseline=False, checked=bool(counted) and all(line.checked_by for line in counted),
                checked_by=last.checked_by, created_at=max(line.declared_at for line in mine),
            ))
    with op.batch_alter_table('project_funding_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_funding_requests_project_id'))
    op.drop_table('project_funding_requests')
    with op.batch_alter_table('project_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_jobs_project_id'))
    op.drop_table('project_jobs')
    for column in ('baseline_by', 'baseline_on'):
        if bind.dialect.name == 'sqlite':  # in place (see the upgrade), SQLite 3.35 and later
            op.execute(f'ALTER TABLE projects DROP COLUMN {column}')
        else:
            op.drop_column('projects', column)
