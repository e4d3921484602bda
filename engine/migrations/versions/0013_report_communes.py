"""case_file: the incident and residence communes (Art. 26.1; Law on Children Art. 52.2), the intake point's
and the commune's receipt times (Art. 26.3: the 12 hours run from the earlier), the child's ethnicity and the
perpetrator's relationship to the child (statistics) (issue 16).

Cases recorded before this revision had one commune code on their report (Mẫu 01 `commune_code`): it becomes
their incident commune; the residence commune is the commune holding the case now (a transferred case
followed the child), so no case is routed anew by the upgrade. Their one receipt time is the intake point's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 00:30:00.000000
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


COLUMNS = ('intake_received_at', 'commune_received_at', 'incident_commune_id', 'residence_commune_id',
           'child_ethnicity', 'perpetrator_relationships')


def _columns() -> list[sa.Column]:
    return [sa.Column('intake_received_at', UTCDateTime(), nullable=True),
            sa.Column('commune_received_at', UTCDateTime(), nullable=True),
            sa.Column('incident_commune_id', sa.Integer(), nullable=True),
            sa.Column('residence_commune_id', sa.Integer(), nullable=True),
            sa.Column('child_ethnicity', sa.String(length=8), nullable=True),
            sa.Column('perpetrator_relationships', sa.JSON(), nullable=True)]


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # Plain ADD COLUMN, no rebuild: rebuilding case_file (which adding a foreign key needs on SQLite) fails on
        # any database holding cases, since task, timer and audit rows point at it. The two commune columns
        # are foreign keys on PostgreSQL; on SQLite the engine alone fills them, from the unit table.
        for column in _columns():
            op.add_column('case_file', column)
    else:
        with op.batch_alter_table('case_file', schema=None) as batch_op:
            for column in _columns():
                batch_op.add_column(column)
            batch_op.create_foreign_key('fk_case_incident_commune', 'org_unit', ['incident_commune_id'], ['id'])
            batch_op.create_foreign_key('fk_case_residence_commune', 'org_unit', ['residence_commune_id'], ['id'])
    bind = op.get_bind()
    case = sa.table('case_file', sa.column('id', sa.Integer), sa.column('commune_id', sa.Integer),
                    sa.column('received_at', UTCDateTime), sa.column('intake_received_at', UTCDateTime),
                    sa.column('incident_commune_id', sa.Integer), sa.column('residence_commune_id', sa.Integer))
    task = sa.table('task', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
                    sa.column('form', sa.String), sa.column('form_data', sa.JSON))
    unit = sa.table('org_unit', sa.column('id', sa.Integer), sa.column('code', sa.String),
                    sa.column('kind', sa.String))
    communes: dict[str, int] = {code: unit_id for code, unit_id in bind.execute(
        sa.select(unit.c.code, unit.c.id).where(unit.c.kind == 'commune')).all()}
    reports: dict[int, Any] = {}
    for case_id, data in bind.execute(sa.select(task.c.case_id, task.c.form_data)
                                      .where(task.c.form == 'mau_01').order_by(task.c.id.desc())).all():
        reports[case_id] = data  # the first report of each case wins (read last)
    for case_id, commune_id, received in bind.execute(
            sa.select(case.c.id, case.c.commune_id, case.c.received_at)).all():
        data = reports.get(case_id)
        code = data.get('commune_code') if isinstance(data, dict) else None
        incident = communes.get(code, commune_id) if isinstance(code, str) else commune_id
        bind.execute(sa.update(case).where(case.c.id == case_id).values(
            incident_commune_id=incident, residence_commune_id=commune_id, intake_received_at=received))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in reversed(COLUMNS):  # native DROP COLUMN (SQLite 3.35+), no rebuild
            op.drop_column('case_file', name)
        return
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_constraint('fk_case_residence_commune', type_='foreignkey')
        batch_op.drop_constraint('fk_case_incident_commune', type_='foreignkey')
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
