"""Indicator 0101 rollup (issue 20): stat_child_mark, one row per fact a counted report adds to a child (the child,
environment, ethnic group, each form of abuse, each perpetrator relationship…) with the receipt of the same
child's previous such row in the country, province and commune, so distinct children are a plain count read from
one index; backfilled from case_file and kept by triggers on case_file (engine/rollups.py).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 04:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

import engine.models
from engine import rollups

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'stat_child_mark',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('value', sa.String(length=40), nullable=True),
        sa.Column('child_key', sa.String(length=64), nullable=False),
        sa.Column('province_id', sa.Integer(), nullable=False),
        sa.Column('commune_id', sa.Integer(), nullable=False),
        sa.Column('received_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('sex', sa.String(length=16), nullable=True),
        sa.Column('age', sa.Integer(), nullable=True),
        sa.Column('prev_n', engine.models.UTCDateTime(), nullable=True),
        sa.Column('prev_p', engine.models.UTCDateTime(), nullable=True),
        sa.Column('prev_c', engine.models.UTCDateTime(), nullable=True),
    )
    op.create_index('ix_stat_child_mark_child', 'stat_child_mark', ['child_key'])
    # A period's rows from the index alone.
    key = ['received_at', 'province_id', 'commune_id']
    rest = ['kind', 'value', 'sex', 'age', 'prev_n', 'prev_p', 'prev_c']
    if dialect == 'postgresql':
        op.create_index('ix_stat_child_mark_received', 'stat_child_mark', key, postgresql_include=rest)
    else:
        op.create_index('ix_stat_child_mark_received', 'stat_child_mark', [*key, *rest])
    op.execute(rollups.child_marks_sql(dialect))
    for statement in rollups.child_pg_triggers() if dialect == 'postgresql' else rollups.child_sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for statement in rollups.CHILD_PG_DROP:
            op.execute(statement)
    else:
        for name in rollups.CHILD_SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_stat_child_mark_received', table_name='stat_child_mark')
    op.drop_index('ix_stat_child_mark_child', table_name='stat_child_mark')
    op.drop_table('stat_child_mark')
