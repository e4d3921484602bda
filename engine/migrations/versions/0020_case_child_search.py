"""case_child, case_search_key: find a child by name (folded, trigram-indexed on PostgreSQL), personal ID or
informant's phone; spot a second report about the same child (engine.children). Backfilled from every case's
Mẫu 01.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 01:10:00.000000
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BATCH = 2000


def _trigram_ops(bind: sa.engine.Connection) -> str:
    """pg_trgm's operator class, qualified by the schema the extension lives in: installed in `public` when
    missing (it is database-wide; a schema of its own per test run or tenant would take it along when dropped).
    Creating an extension needs a role allowed to (the database owner on PostgreSQL 13+ for trusted ones)."""
    bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    schema = bind.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one()
    return f'"{schema}".gin_trgm_ops'


def _backfill(bind: sa.engine.Connection) -> None:
    from engine import children

    reports = sa.text(
        "SELECT t.case_id, t.form_data, c.received_at FROM task t JOIN case_file c ON c.id = t.case_id "
        "WHERE t.step = 'receive' AND t.form = 'mau_01' AND t.form_data IS NOT NULL ORDER BY t.case_id, t.id")
    rows: list[dict] = []
    keys: list[dict] = []
    seen: set[int] = set()

    def flush() -> None:
        if rows:
            bind.execute(sa.text("INSERT INTO case_child (case_id, full_name, name_search, birth_date, birth_year, "
                                 "parents_search) VALUES (:case_id, :full_name, :name_search, :birth_date, "
                                 ":birth_year, :parents_search)"), rows)
        if keys:
            bind.execute(sa.text("INSERT INTO case_search_key (case_id, kind, value) VALUES (:case_id, :kind, "
                                 ":value)"), keys)
        rows.clear()
        keys.clear()

    for case_id, data, received in bind.execute(reports):
        if case_id in seen:  # the first report of a case is its Mẫu 01
            continue
        seen.add(case_id)
        report = json.loads(data) if isinstance(data, str) else data
        if not isinstance(report, dict) or not report.get("child"):
            continue  # destroyed past retention: nothing to find
        when = received if isinstance(received, datetime) else datetime.fromisoformat(str(received))
        rows.append({"case_id": case_id, **children.row_values(report, when.replace(tzinfo=UTC))})
        keys += [{"case_id": case_id, "kind": kind, "value": value} for kind, value in children.key_values(report)]
        if len(rows) >= BATCH:
            flush()
    flush()


def upgrade() -> None:
    op.create_table(
        'case_child',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('name_search', sa.String(length=200), nullable=False),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('birth_year', sa.Integer(), nullable=True),
        sa.Column('parents_search', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_case_child_name', 'case_child', ['name_search', 'birth_year'], unique=False)
    op.create_table(
        'case_search_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_search_key', 'case_search_key', ['kind', 'value', 'case_id'], unique=False)
    op.create_index('ix_case_search_key_case', 'case_search_key', ['case_id'], unique=False)
    bind = op.get_bind()
    _backfill(bind)
    if bind.dialect.name == 'postgresql':
        # Part of a name anywhere ("nhung" in "nguyen thi hong nhung"): LIKE '%…%' answered by the trigram index.
        op.execute(f"CREATE INDEX ix_case_child_trgm ON case_child USING gin (name_search {_trigram_ops(bind)})")


def downgrade() -> None:
    # The extension stays: it is database-wide and may serve other schemas; the index goes with the table.
    op.drop_index('ix_case_search_key_case', table_name='case_search_key')
    op.drop_index('ix_case_search_key', table_name='case_search_key')
    op.drop_table('case_search_key')
    op.drop_index('ix_case_child_name', table_name='case_child')
    op.drop_table('case_child')
