"""case_child: the case's commune, province and receipt copied beside the child's name, so a name search reads one
table in list order and PostgreSQL combines the trigram index with the scope's (bench/name_search.py at 1,000,000
cases: a province's search walked the province's cases one by one). Backfilled from case_file.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 01:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_case_child_commune': ['commune_id', 'received_at', 'case_id'],
    'ix_case_child_province': ['province_id', 'received_at', 'case_id'],
    'ix_case_child_received': ['received_at', 'case_id'],
}


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): SQLite adds nullable columns in place.
    op.add_column('case_child', sa.Column('commune_id', sa.Integer(), nullable=True))
    op.add_column('case_child', sa.Column('province_id', sa.Integer(), nullable=True))
    op.add_column('case_child', sa.Column('received_at', engine.models.UTCDateTime(), nullable=True))
    op.execute("UPDATE case_child SET "
               "commune_id = (SELECT c.commune_id FROM case_file c WHERE c.id = case_child.case_id), "
               "province_id = (SELECT c.province_id FROM case_file c WHERE c.id = case_child.case_id), "
               "received_at = (SELECT c.received_at FROM case_file c WHERE c.id = case_child.case_id)")
    for name, columns in INDEXES.items():
        op.create_index(name, 'case_child', columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name='case_child')
    with op.batch_alter_table('case_child', schema=None) as batch_op:
        batch_op.drop_column('received_at')
        batch_op.drop_column('province_id')
        batch_op.drop_column('commune_id')
