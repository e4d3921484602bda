"""The open cases of a province and of a commune, each from an index of its own (partial: status 'open').

The stranded-case set (engine.liveness.stranded_ids) checks the unit's open cases against its open steps:
which open case has no open step, which open step belongs to a case that is no longer open. Without these the
open cases of a province were read from the case table's rows (a scan of 100,000 rows, 60 of the query's
90 ms at 100,000 cases on PostgreSQL, issue 20); with them, from 8,000 index entries. The key ends with the
case id (SQLite's rowid is implicit) so PostgreSQL answers from the index alone.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 22:15:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_index('ix_case_open_province', 'case_file', ['province_id', 'id'], postgresql_where=OPEN,
                    sqlite_where=OPEN)
    op.create_index('ix_case_open_commune', 'case_file', ['commune_id', 'id'], postgresql_where=OPEN,
                    sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_case_open_commune', table_name='case_file')
    op.drop_index('ix_case_open_province', table_name='case_file')
