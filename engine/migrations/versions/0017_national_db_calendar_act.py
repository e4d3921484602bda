"""national_db_entry: a case's entry into the national children database (Decree 56 Art. 30.3), at each plan
approval and at closure, confirmed by an officer; calendar_day.act: the number of the legal act that makes a
listed but not enacted holiday (24/11 "Ngày Văn hóa Việt Nam") a day off (issue 16).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 00:50:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calendar_day') as batch:
        batch.add_column(sa.Column('act', sa.String(length=100), nullable=True))
    op.create_table(
        'national_db_entry',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('case_file.id'), nullable=False),
        sa.Column('occasion', sa.String(length=20), nullable=False),
        sa.Column('occasion_key', sa.String(length=40), nullable=False),
        sa.Column('source_task_id', sa.Integer(), sa.ForeignKey('task.id'), nullable=True),
        sa.Column('export_version', sa.String(length=20), nullable=False),
        sa.Column('export_sha256', sa.String(length=64), nullable=False),
        sa.Column('entered_on', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=100), nullable=True),
        sa.Column('confirmed_by', sa.String(length=80), nullable=False),
        sa.Column('confirmed_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('case_id', 'occasion_key', name='uq_national_db_entry'),
    )
    op.create_index('ix_national_db_entry_case', 'national_db_entry', ['case_id'])


def downgrade() -> None:
    op.drop_index('ix_national_db_entry_case', table_name='national_db_entry')
    op.drop_table('national_db_entry')
    with op.batch_alter_table('calendar_day') as batch:
        batch.drop_column('act')
