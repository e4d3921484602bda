"""Statistics rollups (issue 20): stat_compliance_day (steps with a limit completed on time / late per the case's
commune, step, title and Vietnam local day and month), backfilled from task and kept by triggers on task and case_file
(engine/rollups.py); a partial index of open steps with a limit for the live part of compliance.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 04:05:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine import rollups

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

OPEN_STEPS = "state = 'ready' AND due_at IS NOT NULL AND escalates_task_id IS NULL"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'stat_compliance_day',
        sa.Column('commune_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=60), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('province_id', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('late', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('commune_id', 'step', 'title', 'grain', 'day'),
    )
    # A period's rows read from the index alone (the counters beside the key): month rows lie scattered in the
    # table among the day rows written at the same moments.
    key = ['grain', 'day', 'province_id', 'commune_id', 'step']
    if dialect == 'postgresql':
        op.create_index('ix_stat_compliance_day', 'stat_compliance_day', key,
                        postgresql_include=['title', 'on_time', 'late'])
    else:
        op.create_index('ix_stat_compliance_day', 'stat_compliance_day', [*key, 'title', 'on_time', 'late'])
    op.execute(rollups.backfill_sql(dialect))
    for statement in rollups.pg_triggers() if dialect == 'postgresql' else rollups.sqlite_triggers():
        op.execute(statement)
    # Open steps with a limit (the snapshot half of compliance), read from the index alone.
    if dialect == 'postgresql':
        op.execute(f"CREATE INDEX ix_task_open_limit ON task (province_id, commune_id, step) "
                   f"INCLUDE (due_at, title) WHERE {OPEN_STEPS}")
    else:
        op.execute(f"CREATE INDEX ix_task_open_limit ON task (province_id, commune_id, step, due_at, title) "
                   f"WHERE {OPEN_STEPS}")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for statement in rollups.PG_DROP:
            op.execute(statement)
    else:
        for name in rollups.SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_task_open_limit', table_name='task')
    op.drop_index('ix_stat_compliance_day', table_name='stat_compliance_day')
    op.drop_table('stat_compliance_day')
