"""task_reminder: a supervisor's or chairman's reminder about an open step, to the account holding it (or every
account that may do it), shown in the inbox until the step is opened and listed in the e-mail digest

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 01:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_reminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=80), nullable=False),
        sa.Column('sent_by', sa.String(length=80), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('sent_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('read_at', engine.models.UTCDateTime(), nullable=True),
        sa.Column('mailed_at', engine.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['task_id'], ['task.id']),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('task_reminder', schema=None) as batch_op:
        batch_op.create_index('ix_task_reminder_recipient', ['recipient', 'read_at', 'sent_at'], unique=False)
        batch_op.create_index('ix_task_reminder_task', ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_task_reminder_task')
        batch_op.drop_index('ix_task_reminder_recipient')
    op.drop_table('task_reminder')
