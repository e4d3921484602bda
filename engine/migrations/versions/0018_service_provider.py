"""service_provider: the registry of child-protection service providers per province or commune that a plan
(Mẫu 04) mobilises (Decree 56 Art. 28.3.c; issue 16)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 01:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'service_provider',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('service_type', sa.String(length=32), nullable=False),
        sa.Column('address', sa.String(length=500), nullable=False),
        sa.Column('contact', sa.String(length=200), nullable=False),
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('org_unit.id'), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.Column('updated_by', sa.String(length=80), nullable=True),
        sa.UniqueConstraint('code', name='uq_service_provider_code'),
    )
    with op.batch_alter_table('service_provider') as batch_op:
        batch_op.create_index('ix_service_provider_unit_id', ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('service_provider') as batch_op:
        batch_op.drop_index('ix_service_provider_unit_id')
    op.drop_table('service_provider')
