"""worklist indexes: lists read in (due_at, id) order, overdue lists by province and commune, linked cases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:45:00.000000
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Found by bench/queries.py at 100,000 cases: a province's overdue list walked every overdue task of the
# country and read each row to count them; a supervisor's inbox (escalations, no due date) sorted all of the
# province's open escalations for one page, as PostgreSQL keeps equal keys in heap order, not by id; the case
# page scanned all cases for the ones linked to it. Ending the work-list indexes with `id` gives the lists'
# own order (due_at, id), so a page is read from the index and cut at its size.
WITH_ID = {
    'ix_task_inbox': (['role', 'commune_id', 'state', 'due_at'], ['id']),
    'ix_task_province': (['role', 'province_id', 'state', 'due_at'], ['id']),
    'ix_task_assignee': (['assignee', 'state', 'due_at'], ['id']),
}


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        for name, (columns, extra) in WITH_ID.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns + extra, unique=False)
        batch_op.create_index('ix_task_province_due', ['province_id', 'state', 'escalates_task_id', 'due_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_task_commune_due', ['commune_id', 'state', 'escalates_task_id', 'due_at', 'id'],
                              unique=False)
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_linked', ['linked_case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_linked')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_commune_due')
        batch_op.drop_index('ix_task_province_due')
        for name, (columns, _extra) in WITH_ID.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)
