"""tick_heartbeat: each tick worker's last finished batch, so readiness can tell whether deadlines are fired

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-10 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tick_heartbeat',
        sa.Column('worker', sa.String(length=80), primary_key=True),
        sa.Column('beat_at', UTCDateTime(), nullable=False),
        sa.Column('fired', sa.Integer(), nullable=False),
        sa.Column('retried', sa.Integer(), nullable=False),
        sa.Column('incidents', sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('tick_heartbeat')
