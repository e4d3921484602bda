"""province_process_version: a province may run its own process version; its new cases open on it, other
provinces' on the national version (issue 15)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'province_process_version',
        sa.Column('province_id', sa.Integer(), sa.ForeignKey('org_unit.id'), primary_key=True),
        sa.Column('version_id', sa.Integer(), sa.ForeignKey('process_version.id'), nullable=False),
        sa.Column('activated_at', UTCDateTime(), nullable=False),
        sa.Column('activated_by', sa.String(length=80), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('province_process_version')
