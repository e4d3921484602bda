"""process_version: where a version came from (shipped file or upload), who uploaded it, and when and by whom it
was activated: new cases open on the version activated last (issue 15)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='shipped', nullable=False))
        batch_op.add_column(sa.Column('uploaded_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('activated_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('activated_by', sa.String(length=80), nullable=True))
    # Until now new cases took the newest recorded file: that one stays the active version.
    op.execute("UPDATE process_version SET activated_at = loaded_at, activated_by = 'system' "
               "WHERE id = (SELECT max(id) FROM process_version)")


def downgrade() -> None:
    with op.batch_alter_table('process_version', schema=None) as batch_op:
        batch_op.drop_column('activated_by')
        batch_op.drop_column('activated_at')
        batch_op.drop_column('uploaded_by')
        batch_op.drop_column('source')
