"""Shared fixtures: every database test runs on SQLite *and* PostgreSQL.

PostgreSQL is the local server (127.0.0.1:5432, user postgres, database `test`), as on CI; set
CASE56_TEST_PG to another URL if needed. A test that needs it never skips: an unreachable server fails.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from engine import rollups, schema
from engine.models import Base, make_engine

PG_URL = os.environ.get("CASE56_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_prepared: dict[str, object] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the random walker (tests/engine/test_walk.py)."""
    group = parser.getgroup("case56 walker")
    group.addoption("--walks", type=int, default=None,
                    help="number of random walks per database (default: CI's count; env CASE56_WALKS)")
    group.addoption("--walk-seed", type=int, default=None,
                    help="replay the walk with this seed; with --walks, the first seed of the range")


def _prepare(kind: str, tmp_root: Path):
    """Create the schema once per backend per run, by migration (as production does)."""
    if kind in _prepared:
        return _prepared[kind]
    if kind == "sqlite":
        url = f"sqlite:///{tmp_root / 'case56-test.sqlite3'}"
    else:
        # A schema of its own per test run, so runs in parallel (developers, CI) never collide.
        name = f"case56_test_{os.getpid()}"
        with make_engine(PG_URL).begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {name}"))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{name}"
        atexit.register(_drop_schema, name)
    schema.upgrade(url)
    engine = make_engine(url)
    _prepared[kind] = (url, engine)
    return _prepared[kind]


def _drop_schema(name: str) -> None:
    with make_engine(PG_URL).begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))


def _truncate(engine, kind: str) -> None:
    # Children before parents, then the statistics rollups (engine.rollups), which the deletions' triggers may
    # have touched. On PostgreSQL DELETE and a restart of every sequence, as TRUNCATE ... RESTART IDENTITY would
    # leave them: for the few rows a test makes it takes 12 ms where TRUNCATE took 60-700 ms, before every test;
    # after a test that made thousands (load, benchmarks: 10 s of row triggers), TRUNCATE, which fires none.
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)] + list(rollups.metadata.tables)
    with engine.begin() as conn:
        if kind == "postgresql" and conn.execute(text(
                "SELECT count(*) FROM (SELECT 1 FROM audit LIMIT 500) AS a")).scalar_one() >= 500:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            return
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        if kind == "postgresql":
            for sequence in conn.execute(text("SELECT sequence_name FROM information_schema.sequences "
                                              "WHERE sequence_schema = current_schema()")).scalars():
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


def _tables() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables] + list(rollups.metadata.tables)


def snapshot(kind: str) -> object:
    """The test database's rows as they stand, to put back with `restore` in a fraction of the time the engine
    took to make them (the demo's cases: seconds per test). SQLite: an in-memory copy by the backup API.
    PostgreSQL: each table and sequence copied into a schema of its own (dropped at exit)."""
    url, engine = _prepared[kind]  # prepared by the caller's db_url
    engine.dispose()
    if kind == "sqlite":
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source:
            source.backup(copy)
        return copy
    name = f"case56_snapshot_{os.getpid()}_{len(_snapshots)}"
    _snapshots.append(name)
    atexit.register(_drop_schema, name)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {name}"))
        for table in _tables():
            conn.execute(text(f'CREATE TABLE {name}."{table}" AS TABLE "{table}"'))
        sequences = {seq: tuple(conn.execute(text(f'SELECT last_value, is_called FROM "{seq}"')).one())
                     for seq in conn.execute(text("SELECT sequence_name FROM information_schema.sequences "
                                                  "WHERE sequence_schema = current_schema()")).scalars()}
    return name, sequences


def restore(kind: str, copy: object) -> None:
    """Put back what `snapshot` took, row for row: the statistics rollups as they were (PostgreSQL copies with
    triggers off, session_replication_role; SQLite copies the file's pages), identity counters included."""
    url, engine = _prepared[kind]
    engine.dispose()
    if kind == "sqlite":
        assert isinstance(copy, sqlite3.Connection)
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as target:
            copy.backup(target)
        return
    name, sequences = copy
    tables = _tables()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)))
        for table in tables:
            conn.execute(text(f'INSERT INTO "{table}" SELECT * FROM {name}."{table}"'))
        for seq, (last, called) in sequences.items():
            conn.execute(text("SELECT setval(CAST(:seq AS regclass), :last, :called)"),
                         {"seq": f'"{seq}"', "last": last, "called": called})


_snapshots: list[str] = []


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request) -> str:
    return request.param


@pytest.fixture
def db_url(db_kind: str, tmp_path_factory) -> str:
    url, engine = _prepare(db_kind, tmp_path_factory.getbasetemp())
    _truncate(engine, db_kind)
    return url


@pytest.fixture
def session_factory(db_url: str, db_kind: str):
    _url, engine = _prepared[db_kind]
    return sessionmaker(bind=engine, expire_on_commit=False)


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture(scope="session")
def case_engine():
    from engine.runtime import Engine

    return Engine()


@pytest.fixture
def calendar_engine(case_engine):
    """The shared engine, for a test that changes the working-day calendar: afterwards its calendar is put back
    as the data file has it (the database's declared days are emptied before the next test)."""
    from engine.calendar import WorkingCalendar

    yield case_engine
    case_engine.calendar = WorkingCalendar.from_file(office_close=case_engine.rules.office_close)


FAST_HASH = "pbkdf2:sha256:1000"  # demo passwords hash fast in tests; production uses scrypt


@pytest.fixture
def people(session):
    """The demo province, communes and one user per role; their engine actors by username."""
    from web import demo

    demo.seed_people(session, FAST_HASH)
    return demo.cast(session)


@pytest.fixture
def app(db_url, case_engine, tmp_path):
    """The Flask app on the test database with the demo people (no cases)."""
    from web import create_app, demo
    from web.extensions import db

    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "CASE56_ENGINE": case_engine,
        "CASE56_ATTACHMENTS": str(tmp_path / "attachments"),
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
    })
    with app.app_context():
        demo.seed_people(db.session, FAST_HASH)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
