"""Web fixtures: demo cases, log-in and CSRF helpers (the app itself is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from web import demo
from web.extensions import db


@pytest.fixture
def demo_app(app, case_engine):
    """The app with the demo's cases in every state."""
    with app.app_context():
        demo.seed_cases(db.session, case_engine)
        db.session.remove()
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
