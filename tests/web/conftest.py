"""Web fixtures: the Flask app on the test database (SQLite and PostgreSQL), demo people, log-in."""

from __future__ import annotations

import pytest

from web import create_app, demo
from web.extensions import db

FAST_HASH = "pbkdf2:sha256:1000"  # demo passwords hash fast in tests; production uses scrypt


@pytest.fixture
def app(db_url, case_engine, tmp_path):
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
def demo_app(app, case_engine):
    """The app with the demo's cases in every state."""
    with app.app_context():
        demo.seed_cases(db.session, case_engine)
        db.session.remove()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


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
