"""One command set for the schema (`case56 db upgrade|downgrade|current|history`); the latest migration goes
down and up again on both databases, each in a database of its own (the shared test schema is not touched)."""

from __future__ import annotations

import os

from sqlalchemy import inspect, text

from engine import schema
from engine.models import make_engine
from tests.conftest import PG_URL
from web import create_app


def _fresh_url(kind: str, tmp_path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}", None
    name = f"case56_migrations_{os.getpid()}"
    with make_engine(PG_URL).begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {name}"))
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{name}", name


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_latest_migration_goes_down_and_up(db_kind, tmp_path, case_engine):
    url, pg_schema = _fresh_url(db_kind, tmp_path)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CASE56_ENGINE": case_engine, "SECRET_KEY": "x" * 40})
        runner = app.test_cli_runner()
        [head] = schema.current_heads(url)
        [(latest, previous, _doc), *_] = schema.history()
        assert latest == head and previous

        result = runner.invoke(args=["db", "current"])
        assert result.exit_code == 1 and "(empty)" in result.output
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        at_head = _tables(url)
        result = runner.invoke(args=["db", "current"])
        assert result.exit_code == 0 and f"database: {head}" in result.output
        history = runner.invoke(args=["db", "history"]).output
        assert f"{previous} -> {head}" in history and "<base> -> 0001" in history

        result = runner.invoke(args=["db", "downgrade", "-1"])
        assert result.exit_code == 0 and f"schema at {previous}" in result.output
        assert schema.current(url) == [previous]
        assert runner.invoke(args=["db", "current"]).exit_code == 1
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert schema.current(url) == [head] and _tables(url) == at_head
        with app.app_context():
            from web.extensions import db

            db.engine.dispose()
    finally:
        if pg_schema:
            with make_engine(PG_URL).begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {pg_schema} CASCADE"))


def test_create_admin_makes_the_first_administrator(app):
    from sqlalchemy import select
    from werkzeug.security import check_password_hash

    from engine.models import AuditEntry, User
    from web.extensions import db

    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "qt-tinh", "--full-name", "Quản Trị Tỉnh", "--province-code",
                                 "T99", "--province-name", "Tỉnh Thử"], input="mat-khau-dai-1\nmat-khau-dai-1\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "qt-tinh"))
        assert user.role == "admin" and user.org_unit.code == "T99" and user.org_unit.kind == "province"
        assert check_password_hash(user.password_hash, "mat-khau-dai-1")
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user_created")) is not None
        db.session.remove()
    again = runner.invoke(args=["create-admin", "qt-tinh", "--full-name", "X", "--province-code", "T99",
                                "--password", "mat-khau-dai-1"])
    assert again.exit_code == 2 and "already exists" in again.output
