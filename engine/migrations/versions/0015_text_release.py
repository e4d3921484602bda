"""text_release: free texts an officer marked releasable, per step and field (sensitivity classes, issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'text_release',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('case_file.id'), nullable=False),
        sa.Column('task_id', sa.Integer(), sa.ForeignKey('task.id'), nullable=False),
        sa.Column('path', sa.String(length=300), nullable=False),
        sa.Column('value_sha256', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('released_by', sa.String(length=80), nullable=False),
        sa.Column('released_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('task_id', 'path', name='uq_text_release'),
    )
    op.create_index('ix_text_release_case', 'text_release', ['case_id', 'task_id'])


def downgrade() -> None:
    op.drop_index('ix_text_release_case', table_name='text_release')
    op.drop_table('text_release')
