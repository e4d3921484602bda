"""task.activity: the plan activity (Mẫu 04) an assigned step is for, as the workflow handed it to the step
when it opened (the multi-instance child's `activity`); kept in step with a reassignment (issue 14).

Open steps recorded before this revision get theirs from the stored workflow state: the run is plain JSON
(engine.state), and an activity is a dict of strings, so no SpiffWorkflow object is needed to read it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-11 12:00:00.000000
"""
import json
import zlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _task_data(state: dict[str, Any], spiff_id: str) -> dict[str, Any] | None:
    """The data of the task `spiff_id` in a stored run, looking into subprocesses too."""
    found = (state.get("tasks") or {}).get(spiff_id)
    if isinstance(found, dict):
        return found.get("data") if isinstance(found.get("data"), dict) else None
    for sub in (state.get("subprocesses") or {}).values():
        data = _task_data(sub, spiff_id) if isinstance(sub, dict) else None
        if data is not None:
            return data
    return None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity', sa.JSON(), nullable=True))
    bind = op.get_bind()
    task = sa.table('task', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
                    sa.column('spiff_id', sa.String), sa.column('state', sa.String),
                    sa.column('assignee', sa.String), sa.column('activity', sa.JSON))
    workflow = sa.table('case_workflow', sa.column('case_id', sa.Integer), sa.column('state', sa.LargeBinary))
    rows = bind.execute(sa.select(task.c.id, task.c.case_id, task.c.spiff_id)
                        .where(task.c.state == 'ready', task.c.assignee.is_not(None))
                        .order_by(task.c.case_id)).all()
    states: dict[int, dict[str, Any]] = {}
    for task_id, case_id, spiff_id in rows:
        if case_id not in states:
            raw = bind.scalar(sa.select(workflow.c.state).where(workflow.c.case_id == case_id))
            states[case_id] = json.loads(zlib.decompress(raw)) if raw else {}
        activity = (_task_data(states[case_id], spiff_id) or {}).get('activity')
        if isinstance(activity, dict):
            bind.execute(sa.update(task).where(task.c.id == task_id).values(activity=activity))


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('activity')
