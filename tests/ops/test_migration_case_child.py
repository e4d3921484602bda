"""Migrations 0020 and 0022 (issue 17) on both databases, each in a database of its own: cases recorded before
them get their child's search row and keys from their Mẫu 01 (a destroyed file's emptied form gets none) and the
case's scope beside it; on PostgreSQL the trigram index exists; they go down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import text

from engine import schema
from engine.models import make_engine
from tests.conftest import PG_URL
from tests.ops.test_migration_report_communes import RECEIVED, _insert
from tests.ops.test_migrations import _fresh_url


def test_old_cases_are_backfilled_and_indexed(db_kind, tmp_path):
    url, pg_schema = _fresh_url(db_kind, tmp_path)
    engine = make_engine(url)
    try:
        schema.upgrade(url, "0019")
        meta = sa.MetaData()
        meta.reflect(engine)
        unit, version, case, task = (meta.tables[n] for n in ("org_unit", "process_version", "case_file", "task"))
        with engine.begin() as conn:
            province = _insert(conn, unit, code="T01", name="Tỉnh", kind="province", parent_id=None)
            x01 = _insert(conn, unit, code="T01-X01", name="Xã 1", kind="commune", parent_id=province)
            pv = _insert(conn, version)
            common = {"province_id": province, "process_version_id": pv, "received_at": RECEIVED,
                      "category": "xam_hai", "status": "open", "commune_id": x01}
            named = _insert(conn, case, number="T01-X01-2026-0001", **common)
            estimated = _insert(conn, case, number="T01-X01-2026-0002", **common)
            destroyed = _insert(conn, case, number="T01-X01-2026-0003", **common)
            reports = {
                named: {"child": {"full_name": "Nguyễn Thị Hồng Nhung", "date_of_birth": "2016-05-04",
                                  "personal_id": "001316012345", "father": {"name": "Nguyễn Văn Đức"}},
                        "informant": {"consent": True, "phone": "+84 912 345 678"}},
                estimated: {"child": {"full_name": "Đỗ Thu Trang", "estimated_age": 12}},
                destroyed: {"decision": "approved"},
            }
            for case_id, data in reports.items():
                _insert(conn, task, case_id=case_id, form="mau_01", form_data=data, step="receive",
                        commune_id=x01, province_id=province)

        schema.upgrade(url, "0020")
        with engine.connect() as conn:
            rows = {r.case_id: r for r in conn.execute(text(
                "SELECT case_id, full_name, name_search, birth_date, birth_year, parents_search FROM case_child"))}
            keys = set(conn.execute(text("SELECT case_id, kind, value FROM case_search_key")).all())
            if db_kind == "postgresql":
                assert conn.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_case_child_trgm' "
                                         f"AND schemaname = '{pg_schema}'")).scalar_one() == 1
                plan = "\n".join(r[0] for r in conn.execute(text(
                    "EXPLAIN SELECT case_id FROM case_child WHERE name_search LIKE '%nhung%'")))
                assert "case_child" in plan
        assert set(rows) == {named, estimated}
        assert (rows[named].name_search, rows[named].birth_year, rows[named].parents_search) == (
            "nguyen thi hong nhung", 2016, "nguyen van duc")
        assert (rows[estimated].full_name, rows[estimated].birth_year) == ("Đỗ Thu Trang", 2026 - 12)
        assert keys == {(named, "personal_id", "001316012345"), (named, "informant_phone", "0912345678")}

        schema.downgrade(url, "0019")
        assert "case_child" not in sa.inspect(engine).get_table_names()
        schema.upgrade(url, "0020")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM case_child")).scalar_one() == 2
        # 0022 copies each case's scope and receipt beside the name, and goes down again.
        schema.upgrade(url, "0022")
        with engine.connect() as conn:
            scope = set(conn.execute(text("SELECT commune_id, province_id FROM case_child")).all())
            assert scope == {(x01, province)}
            assert conn.execute(text("SELECT count(*) FROM case_child WHERE received_at IS NULL")).scalar_one() == 0
        schema.downgrade(url, "0021")
        assert "province_id" not in {c["name"] for c in sa.inspect(engine).get_columns("case_child")}
    finally:
        engine.dispose()
        if pg_schema:
            with make_engine(PG_URL).begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {pg_schema} CASCADE"))
