"""case_restriction (processing restricted on an authority's request, Law 91/2025 Art. 24.3), legal_hold,
destruction (two-person, logged) and destroyed_record (tombstones) for retention (issue 18)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 00:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_restriction',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('case_file.id'), nullable=False),
        sa.Column('authority', sa.String(length=300), nullable=False),
        sa.Column('document_number', sa.String(length=100), nullable=False),
        sa.Column('document_date', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('restricted_by', sa.String(length=80), nullable=False),
        sa.Column('restricted_at', UTCDateTime(), nullable=False),
        sa.Column('lifted_by', sa.String(length=80), nullable=True),
        sa.Column('lifted_at', UTCDateTime(), nullable=True),
        sa.Column('lift_reason', sa.Text(), nullable=True),
    )
    op.create_index('ix_case_restriction_case', 'case_restriction', ['case_id', 'lifted_at'])
    op.create_table(
        'legal_hold',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('case_file.id'), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('held_until', sa.Date(), nullable=True),
        sa.Column('placed_by', sa.String(length=80), nullable=False),
        sa.Column('placed_at', UTCDateTime(), nullable=False),
        sa.Column('released_by', sa.String(length=80), nullable=True),
        sa.Column('released_at', UTCDateTime(), nullable=True),
        sa.Column('release_reason', sa.Text(), nullable=True),
    )
    op.create_index('ix_legal_hold_case', 'legal_hold', ['case_id', 'released_at'])
    op.create_table(
        'destruction',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('cases', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('requested_by', sa.String(length=80), nullable=False),
        sa.Column('requested_at', UTCDateTime(), nullable=False),
        sa.Column('decided_by', sa.String(length=80), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
    )
    op.create_table(
        'destroyed_record',
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('case_file.id'), primary_key=True),
        sa.Column('record_type', sa.String(length=20), primary_key=True),
        sa.Column('destruction_id', sa.Integer(), sa.ForeignKey('destruction.id'), nullable=False),
        sa.Column('destroyed_at', UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('destroyed_record')
    op.drop_table('destruction')
    op.drop_index('ix_legal_hold_case', table_name='legal_hold')
    op.drop_table('legal_hold')
    op.drop_index('ix_case_restriction_case', table_name='case_restriction')
    op.drop_table('case_restriction')
