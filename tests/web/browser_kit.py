"""What every browser test shares: the app served on a free port, and Debian's chromium launched headless
through Playwright (never a downloaded browser)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on 127.0.0.1 in a thread; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, headless; a missing browser fails the test (CI must not skip it)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium (never download a browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser: Any, base: str, username: str, *, landing: Any = None, **options: Any) -> tuple[Any, Any]:
    """A new browser context (Vietnamese, 1280x900 unless `options` say otherwise, e.g. a phone's viewport or
    JavaScript off) signed in as `username` with the demo password; returns (context, page) once the browser has
    left the log-in page (`landing`: the exact URL or predicate to wait for, by default any page but /login)."""
    from web import demo

    context = browser.new_context(**{"locale": "vi-VN", "viewport": {"width": 1280, "height": 900}, **options})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.locator("main button.primary").click()
    page.wait_for_url(landing if landing is not None else (lambda url: "/login" not in url))
    return context, page


def demo_site(tmp_path_factory: Any, case_engine: Any) -> Any:
    """An app on its own SQLite file with the demo's people, cases and privacy records, for a module's walks."""
    from tests.conftest import FAST_HASH, _prepare, _truncate
    from web import create_app, demo
    from web.extensions import db

    url, engine = _prepare("sqlite", tmp_path_factory.getbasetemp())
    _truncate(engine, "sqlite")
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "CASE56_ENGINE": case_engine,
        "CASE56_ATTACHMENTS": str(tmp_path_factory.mktemp("attachments")),
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
    })
    with app.app_context():
        demo.seed_people(db.session, FAST_HASH)
        demo.seed_cases(db.session, case_engine)
        demo.seed_privacy(db.session, case_engine)
        db.session.remove()
    return app
