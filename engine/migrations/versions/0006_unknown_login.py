"""unknown_login: failed log-ins under names no account has, so a lock-out does not reveal which names exist

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 05:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'unknown_login',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', engine.models.UTCDateTime(), nullable=True),
        sa.Column('last_failed_at', engine.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    with op.batch_alter_table('unknown_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unknown_login_last_failed_at'), ['last_failed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('unknown_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unknown_login_last_failed_at'))
    op.drop_table('unknown_login')
