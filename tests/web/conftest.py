"""Web fixtures: demo cases, log-in and CSRF helpers (the app itself is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.conftest import restore, snapshot
from web import demo
from web.extensions import db

_demo_copies: dict[str, object] = {}


@pytest.fixture
def demo_app(app, db_kind, case_engine):
    """The app with the demo's cases in every state: driven through the engine by the first test of each database
    in this process, then put back from a copy (seeding took seconds per test). The copy's moments are those of
    its seeding, minutes before at most: its cases are as far from their limits as the demo makes them."""
    with app.app_context():
        db.session.remove()
        if db_kind in _demo_copies:
            restore(db_kind, _demo_copies[db_kind])
        else:
            demo.seed_cases(db.session, case_engine)
            db.session.remove()
            _demo_copies[db_kind] = snapshot(db_kind)
        db.engine.dispose()  # the app's pooled connections: nothing cached from before the copy came back
    return app


def _csrf(client, path="/login"):
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1) if match else ""


@pytest.fixture
def csrf():
    """csrf(client, path) → a valid CSRF token read from the page at `path`."""
    return _csrf


@pytest.fixture
def login(csrf):
    """login(client, username) signs in a demo user through the real log-in form."""

    def do(client, username, password=demo.DEMO_PASSWORD):
        token = csrf(client, "/login")
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code in (302, 401), response.status_code
        return response

    return do
