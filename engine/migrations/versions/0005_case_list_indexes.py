"""case list indexes: a commune's, a province's and the country's cases newest first, read in index order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 05:00:00.000000
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The case list ("Hồ sơ") shows a scope's cases newest first. ix_case_scope starts with the province and then
# the commune and status, so a province's list (and the country's, for a national inspector) sorted every
# case of its scope for one page. With (scope, received_at, id) a page is read from the index and cut at its
# size, and its count (up to a limit, engine/worklists.count_up_to) reads the same index.
INDEXES = {
    'ix_case_commune_received': ['commune_id', 'received_at', 'id'],
    'ix_case_province_received': ['province_id', 'received_at', 'id'],
    'ix_case_received': ['received_at', 'id'],
}


def upgrade() -> None:
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
