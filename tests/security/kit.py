"""Helpers for the security tests: database snapshots (to prove that nothing changed), more people in another
province, and the paths of the web's POST forms."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from engine import clock
from engine.models import AuditEntry, Base, Case, Task, User
from tests.conftest import FAST_HASH
from tests.web.casework_kit import add_other_province
from web import demo
from web.api import tokens
from web.extensions import db

# username, role, unit code: people of a second province (T02), to guess across provinces
OTHER_PROVINCE = [("canbo_t02", "officer", "T02-X01"), ("giamsat_t02", "supervisor", "T02"),
                  ("thanhtra_t02", "inspector", "T02"), ("tiepnhan_t02", "intake", "T02-X01")]


def snapshot(app: Flask, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """A digest of every row of every table: equal snapshots mean that nothing at all was written."""
    out: dict[str, str] = {}
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = db.session.execute(select(table).order_by(*order)).all()
            out[table.name] = f"{len(rows)}:" + hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
        db.session.remove()
    return out


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


def counts(app: Flask) -> dict[str, int]:
    """Rows of the case, task and audit tables."""
    with app.app_context():
        out = {name: db.session.scalar(select(func.count()).select_from(model)) or 0
               for name, model in (("case_file", Case), ("task", Task), ("audit", AuditEntry))}
        db.session.remove()
    return out


def audit_actions(app: Flask, after_id: int = 0) -> list[tuple[str, str]]:
    """(actor, action) of the audit rows after `after_id`."""
    with app.app_context():
        rows = db.session.execute(select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.id > after_id)
                                  .order_by(AuditEntry.id)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def last_audit_id(app: Flask) -> int:
    with app.app_context():
        value = db.session.scalar(select(func.max(AuditEntry.id))) or 0
        db.session.remove()
    return value


def seed_other_province(app: Flask) -> None:
    """Province T02 with one commune and its people (password demo.DEMO_PASSWORD)."""
    with app.app_context():
        province, commune = add_other_province(db.session)
        units = {"T02": province, "T02-X01": commune}
        for username, role, unit in OTHER_PROVINCE:
            db.session.add(User(username=username, full_name=f"Người dùng {username}", role=role,
                                org_unit_id=units[unit].id, created_at=clock.now(), locale="vi",
                                password_hash=generate_password_hash(demo.DEMO_PASSWORD, method=FAST_HASH)))
        db.session.commit()
        db.session.remove()


def api_token(app: Flask, username: str) -> str:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        issued = tokens.issue(db.session, user, f"security test {username}", 30, username)
        db.session.remove()
    return issued.token


def bearer(raw: str, **extra: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}", **extra}


def web_post_endpoints(app: Flask) -> set[str]:
    """Every endpoint of the web UI that takes a POST (the API is exempt from CSRF: bearer tokens only)."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or set()) and not rule.rule.startswith("/api/")}
