"""Migration 0013 (issue 16) on both databases, each in a database of its own: cases recorded before it get their
report's commune code as incident commune, the commune holding them as residence commune (a transferred case
followed the child) and their one receipt as the intake point's; it goes down again."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import text

from engine import schema
from engine.models import make_engine
from tests.conftest import PG_URL
from tests.ops.test_migrations import _fresh_url

RECEIVED = datetime(2026, 3, 9, 7, 30, tzinfo=UTC)


def _filler(column: sa.Column) -> Any:
    """A value for a NOT NULL column the test does not care about, by its type."""
    kind = type(column.type).__name__.lower()
    if "int" in kind:
        return 1
    if "bool" in kind:
        return False
    if "json" in kind:
        return []
    if "date" in kind and "time" not in kind:
        return date(2026, 3, 9)
    if "time" in kind:
        return RECEIVED
    if "binary" in kind or "blob" in kind or "bytea" in kind:
        return b""
    return "x"


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    row = {c.name: _filler(c) for c in table.columns
           if not c.nullable and c.name not in values and not c.primary_key and c.server_default is None}
    return conn.execute(table.insert().values(**row, **values).returning(table.c.id)).scalar_one()


def test_old_cases_get_their_communes_and_receipt(db_kind, tmp_path):
    url, pg_schema = _fresh_url(db_kind, tmp_path)
    engine = make_engine(url)
    try:
        schema.upgrade(url, "0012")
        meta = sa.MetaData()
        meta.reflect(engine)
        unit, version, case, task = (meta.tables[n] for n in ("org_unit", "process_version", "case_file", "task"))
        with engine.begin() as conn:
            province = _insert(conn, unit, code="T01", name="Tỉnh", kind="province", parent_id=None)
            x01 = _insert(conn, unit, code="T01-X01", name="Xã 1", kind="commune", parent_id=province)
            x02 = _insert(conn, unit, code="T01-X02", name="Xã 2", kind="commune", parent_id=province)
            pv = _insert(conn, version)
            common = {"province_id": province, "process_version_id": pv, "received_at": RECEIVED,
                      "category": "xam_hai", "status": "open"}
            stayed = _insert(conn, case, number="T01-X01-2026-0001", commune_id=x01, **common)
            moved = _insert(conn, case, number="T01-X01-2026-0002", commune_id=x02, **common)  # transferred
            unknown = _insert(conn, case, number="T01-X01-2026-0003", commune_id=x01, **common)
            for case_id, data in ((stayed, {"commune_code": "T01-X01"}), (moved, {"commune_code": "T01-X01"}),
                                  (unknown, {"commune_code": "GONE"})):
                _insert(conn, task, case_id=case_id, form="mau_01", form_data=data, step="receive",
                        commune_id=x01, province_id=province)

        schema.upgrade(url, "0013")
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(text(
                "SELECT id, incident_commune_id, residence_commune_id, intake_received_at, commune_received_at, "
                "child_ethnicity, perpetrator_relationships FROM case_file"))}
        assert (rows[stayed].incident_commune_id, rows[stayed].residence_commune_id) == (x01, x01)
        assert (rows[moved].incident_commune_id, rows[moved].residence_commune_id) == (x01, x02)
        assert (rows[unknown].incident_commune_id, rows[unknown].residence_commune_id) == (x01, x01)
        for row in rows.values():
            assert row.intake_received_at is not None and row.commune_received_at is None
            assert row.child_ethnicity is None and row.perpetrator_relationships is None

        schema.downgrade(url, "0012")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("case_file")}
        assert not columns & {"incident_commune_id", "residence_commune_id", "intake_received_at"}
        schema.upgrade(url, "0013")
    finally:
        engine.dispose()
        if pg_schema:
            with make_engine(PG_URL).begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {pg_schema} CASCADE"))
