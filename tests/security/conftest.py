"""Security test fixtures: the app (tests/conftest.py) and the web fixtures (tests/web/conftest.py), and a test
client that checks every response it gets for the hardening headers and for inline script.

Every response any test of this package receives through `app.test_client()` passes `check_response`:
the Content-Security-Policy (no 'unsafe-inline' script, frame-ancestors 'none'), nosniff, Referrer-Policy,
and — for HTML — no <script> element without a `src`, no inline event handler, no `javascript:` URL
written by the application (nor inline style, which the policy would block as well). `STATS` counts them
for the summary line at the end of the run.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import demo_app  # noqa: F401  (a fixture, used by name)

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


class _ScriptFinder(HTMLParser):
    """What a browser would run from the page itself: <script> without src, on* attributes, javascript: URLs.
    Escaped user text (&lt;img onerror=…&gt;) is text to the parser, never a tag: it cannot match."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        if tag == "style":  # the CSP allows no inline style either: it would silently not apply
            self.found.append("inline <style>")
        for name, value in names.items():
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in URL_ATTRIBUTES and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(
                    ("javascript:", "vbscript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value[:40]!r}>")

    handle_startendtag = handle_starttag


# Cheap first look: a page with none of these cannot hold what _ScriptFinder looks for.
_SUSPECT = re.compile(r"<(?:script|style)|\s(?:on[a-z]+|style)\s*=|(?:java|vb)script:|data:text/html", re.IGNORECASE)


def inline_script(body: str) -> list[str]:
    if not _SUSPECT.search(body):
        return []
    finder = _ScriptFinder()
    finder.feed(body)
    finder.close()
    return finder.found


STATS: Counter[str] = Counter()


def script_src(csp: str) -> str:
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}
    return directives.get("script-src") or directives.get("default-src", "")


def check_response(response: Any, where: str = "") -> None:
    """The headers every response carries, and no inline script in any HTML page."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert csp, f"{where}: no Content-Security-Policy"
    assert "'unsafe-inline'" not in script_src(csp) and "'unsafe-eval'" not in script_src(csp), (where, csp)
    assert "frame-ancestors 'none'" in csp, (where, csp)
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in {"same-origin", "no-referrer", "strict-origin-when-cross-origin",
                                               "strict-origin"}, where
    STATS["responses"] += 1
    if response.mimetype in ("text/html", "text/plain", "application/json"):
        assert "Traceback (most recent call last)" not in response.get_data(as_text=True), where
    if response.mimetype == "text/html":
        body = response.get_data(as_text=True)
        found = inline_script(body)
        assert not found, f"{where}: {found[:3]}"
        STATS["html_pages"] += 1


class CheckedClient(FlaskClient):
    """A test client whose every response is checked by `check_response`."""

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        response = super().open(*args, **kwargs)
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        check_response(response, f"{kwargs.get('method', 'GET')} {path} → {response.status_code}")
        return response


@pytest.fixture
def fast_dummy_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Log-in attempts for unknown names check the password against a dummy scrypt hash (so that they take as
    long as real ones); tests that make many such attempts, and do not measure time, use a fast one."""
    from werkzeug.security import generate_password_hash

    from tests.conftest import FAST_HASH
    from web import auth

    monkeypatch.setattr(auth, "_DUMMY_HASH", generate_password_hash("case56-no-such-user", method=FAST_HASH))


@pytest.fixture(autouse=True)
def _checked_clients(request: pytest.FixtureRequest) -> None:
    """Tests that use the web app get checked clients (the app fixture itself is tests/conftest.py's)."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").test_client_class = CheckedClient


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STATS:
        terminalreporter.write_line(
            f"security: {STATS['responses']} responses checked for headers, {STATS['html_pages']} HTML pages "
            f"for inline script; fuzz examples: "
            + ", ".join(f"{k[5:]}={v}" for k, v in sorted(STATS.items()) if k.startswith("fuzz:")))
