"""Personal data protection (issue 18): legal representatives, data-subject requests run as a BPMN process
(their process texts and steps), the breach register

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'legal_representative',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('case_file.id'), nullable=False),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('relation', sa.String(length=30), nullable=False),
        sa.Column('contact', sa.String(length=200), nullable=True),
        sa.Column('id_number', sa.String(length=40), nullable=True),
        sa.Column('alleged_abuser', sa.Boolean(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
    )
    op.create_index('ix_representative_case', 'legal_representative', ['case_id', 'id'])
    op.create_table(
        'privacy_process',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('process_id', sa.String(length=80), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False, unique=True),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('bpmn', sa.Text(), nullable=False),
        sa.Column('loaded_at', UTCDateTime(), nullable=False),
    )
    op.create_table(
        'data_request',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('number', sa.String(length=40), nullable=False, unique=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('case_file.id'), nullable=False),
        sa.Column('commune_id', sa.Integer(), sa.ForeignKey('org_unit.id'), nullable=False),
        sa.Column('province_id', sa.Integer(), sa.ForeignKey('org_unit.id'), nullable=False),
        sa.Column('representative_id', sa.Integer(), sa.ForeignKey('legal_representative.id'), nullable=True),
        sa.Column('requester_kind', sa.String(length=20), nullable=False),
        sa.Column('requester_name', sa.String(length=200), nullable=False),
        sa.Column('request_type', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('ack_due_at', UTCDateTime(), nullable=False),
        sa.Column('acknowledged_at', UTCDateTime(), nullable=True),
        sa.Column('due_at', UTCDateTime(), nullable=False),
        sa.Column('extended_at', UTCDateTime(), nullable=True),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('refusal_ground', sa.String(length=40), nullable=True),
        sa.Column('form_data', sa.JSON(), nullable=False),
        sa.Column('process_id', sa.Integer(), sa.ForeignKey('privacy_process.id'), nullable=False),
        sa.Column('serializer_version', sa.String(length=16), nullable=False),
        sa.Column('state', sa.LargeBinary(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
    )
    op.create_index('ix_data_request_status', 'data_request', ['status', 'due_at', 'id'])
    op.create_index('ix_data_request_case', 'data_request', ['case_id', 'id'])
    op.create_table(
        'data_request_step',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('request_id', sa.Integer(), sa.ForeignKey('data_request.id'), nullable=False),
        sa.Column('spiff_id', sa.String(length=36), nullable=False),
        sa.Column('step', sa.String(length=60), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('due_at', UTCDateTime(), nullable=True),
        sa.Column('escalated_at', UTCDateTime(), nullable=True),
        sa.Column('completed_at', UTCDateTime(), nullable=True),
        sa.Column('completed_by', sa.String(length=80), nullable=True),
        sa.Column('form', sa.String(length=40), nullable=True),
        sa.Column('form_version', sa.Integer(), nullable=True),
        sa.Column('form_data', sa.JSON(), nullable=True),
        sa.UniqueConstraint('request_id', 'spiff_id', name='uq_data_request_step'),
    )
    op.create_index('ix_data_request_step_due', 'data_request_step', ['state', 'escalated_at', 'due_at'])
    op.create_table(
        'breach',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('number', sa.String(length=40), nullable=False, unique=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('discovered_at', UTCDateTime(), nullable=False),
        sa.Column('notify_due_at', UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('escalated_at', UTCDateTime(), nullable=True),
        sa.Column('notified_at', UTCDateTime(), nullable=True),
        sa.Column('notification', sa.JSON(), nullable=True),
        sa.Column('controller_notified_at', UTCDateTime(), nullable=True),
        sa.Column('controller_notice', sa.JSON(), nullable=True),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('closure', sa.JSON(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
    )
    op.create_index('ix_breach_status', 'breach', ['status', 'notify_due_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_breach_status', table_name='breach')
    op.drop_table('breach')
    op.drop_index('ix_data_request_step_due', table_name='data_request_step')
    op.drop_table('data_request_step')
    op.drop_index('ix_data_request_case', table_name='data_request')
    op.drop_index('ix_data_request_status', table_name='data_request')
    op.drop_table('data_request')
    op.drop_table('privacy_process')
    op.drop_index('ix_representative_case', table_name='legal_representative')
    op.drop_table('legal_representative')
