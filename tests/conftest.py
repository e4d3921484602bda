"""Shared fixtures: every database test runs on SQLite *and* PostgreSQL.

PostgreSQL is the local server (127.0.0.1:5432, user postgres, database `test`), as on CI; set
CASE56_TEST_PG to another URL if needed. A test that needs it never skips: an unreachable server fails.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from engine import schema
from engine.models import Base, make_engine

PG_URL = os.environ.get("CASE56_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_prepared: dict[str, object] = {}


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
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if kind == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


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
