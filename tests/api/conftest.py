"""API fixtures: the app on the test database (SQLite and PostgreSQL) with the demo people, tokens per user,
and small helpers to open and advance cases. Only what a test needs is seeded (no demo case set)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEntry, Case, Task, User
from web import demo
from web.api import tokens
from web.extensions import db


@pytest.fixture
def token(app) -> Callable[[str], str]:
    """token(username) → a fresh API token of that demo user (made like the token page makes it)."""

    def make(username: str, days: int = 90) -> str:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            issued = tokens.issue(db.session, user, f"test {username}", days, username)
            db.session.remove()
            return issued.token

    return make


@pytest.fixture
def auth(token) -> Callable[[str], dict[str, str]]:
    """auth(username) → headers authenticating as that user (one token per user per test)."""
    made: dict[str, str] = {}

    def headers(username: str, **extra: str) -> dict[str, str]:
        if username not in made:
            made[username] = token(username)
        return {"Authorization": f"Bearer {made[username]}", **extra}

    return headers


class World:
    """Cases opened and advanced through the engine, as the people of the demo."""

    def __init__(self, app, engine) -> None:
        self.app, self.engine = app, engine

    def open(self, commune: str = "T01-X01", hours_ago: float = 1, by: str = "tiepnhan", **mau01: Any) -> int:
        with self.app.app_context():
            people = demo.cast(db.session)
            at = clock.now() - timedelta(hours=hours_ago)
            case = self.engine.open_case(db.session, people.actors[by], commune,
                                         demo.sample("mau_01", at + timedelta(minutes=30), **mau01))
            case_id = case.id
            db.session.remove()
            return case_id

    def drive(self, case_id: int, stop_at: str, **kwargs: Any) -> list[str]:
        with self.app.app_context():
            case = db.session.get(Case, case_id)
            done = demo.drive(self.engine, db.session, case, demo.cast(db.session), stop_at=stop_at, **kwargs)
            db.session.remove()
            return done

    def open_task(self, case_id: int, step: str | None = None) -> Task:
        with self.app.app_context():
            query = select(Task).where(Task.case_id == case_id, Task.state == "ready").order_by(Task.id)
            if step:
                query = query.where(Task.step == step)
            task = db.session.scalars(query).first()
            db.session.remove()
            return task

    def get(self, model: type, ident: int) -> Any:
        with self.app.app_context():
            row = db.session.get(model, ident)
            db.session.remove()
            return row

    def count(self, model: type, *where: Any) -> int:
        with self.app.app_context():
            n = db.session.scalar(select(func.count()).select_from(model).where(*where))
            db.session.remove()
            return n or 0

    def audit(self, *where: Any) -> list[AuditEntry]:
        with self.app.app_context():
            rows = list(db.session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id)))
            db.session.remove()
            return rows


@pytest.fixture
def world(app, case_engine) -> World:
    return World(app, case_engine)
