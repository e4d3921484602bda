"""task.cancel_reason: why a step was cancelled (the case closed, or the process left the step);
task.track: the track a step belongs to when it goes on after the case closes (police)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('track', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('track')
        batch_op.drop_column('cancel_reason')
