"""Two read paths of issue 20's targets answered from one index each:

- ix_task_open: the open steps (a partial index, state 'ready') by province and commune, carrying what the
  province dashboard reads of them — case, role, holder, track, escalation link, limit and title —, so the
  stranded-case test (engine.liveness), the open steps per holder (engine.ownership.workload) and the grouped
  overdue counts (engine.worklists.overdue_counts) read the index alone instead of the task table's rows
  (134 MB at 100,000 cases; the dashboard took 2 s per page at 100,000 cases on PostgreSQL);
- ix_stat_child_mark_commune: indicator 0101 for one commune reads its own rows (commune, receipt) instead of
  the country's rows of the period (ix_stat_child_mark_received starts with the receipt date).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 05:12:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

OPEN_STEP_COLUMNS = ['case_id', 'role', 'assignee', 'track', 'escalates_task_id', 'due_at', 'title']
MARK_COLUMNS = ['kind', 'value', 'sex', 'age', 'prev_c']


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_task_open', 'task', ['province_id', 'commune_id'], postgresql_include=OPEN_STEP_COLUMNS,
                        postgresql_where=sa.text("state = 'ready'"))
        op.create_index('ix_stat_child_mark_commune', 'stat_child_mark', ['commune_id', 'received_at'],
                        postgresql_include=MARK_COLUMNS)
    else:  # SQLite has no INCLUDE: the carried columns are trailing keys
        op.create_index('ix_task_open', 'task', ['province_id', 'commune_id', *OPEN_STEP_COLUMNS],
                        sqlite_where=sa.text("state = 'ready'"))
        op.create_index('ix_stat_child_mark_commune', 'stat_child_mark', ['commune_id', 'received_at', *MARK_COLUMNS])


def downgrade() -> None:
    op.drop_index('ix_stat_child_mark_commune', table_name='stat_child_mark')
    op.drop_index('ix_task_open', table_name='task')
