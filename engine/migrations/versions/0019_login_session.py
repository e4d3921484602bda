"""login_session: browser sessions held on the server, so logout, "log out everywhere", a password change or an
administrator ends a session for good (a copied cookie stops working)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 00:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('last_seen_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=True),
        sa.Column('ended_at', engine.models.UTCDateTime(), nullable=True),
        sa.Column('ended_by', sa.String(length=80), nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index('ix_login_session_user', ['user_id', 'ended_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index('ix_login_session_user')
    op.drop_table('login_session')
