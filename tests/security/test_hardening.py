"""Hardening: security headers on every kind of response, no inline script on any page, cookie flags, and a
production configuration that refuses to start weak (no/short/default secret, debug) — and no traceback page.

The headers and the inline-script check run on every response of this package (tests/security/conftest.py);
here every page each role can reach is crawled, and responses of each other kind are requested on purpose.
"""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from tests.security.conftest import check_response, inline_script, script_src
from tests.web.casework_kit import client_for, open_case, token
from web import config as config_module
from web import create_app, demo
from web.extensions import db
from web.security import CSP

ROLES = {"intake": "tiepnhan", "officer": "canbo", "chairman": "chutich", "partner": "truonghoc",
         "supervisor": "giamsat", "inspector": "thanhtra", "admin": "quantri"}
PER_PATTERN = 1  # pages crawled per route shape (one /cases/<id>, not every case)


def _links(body: str) -> list[str]:
    return re.findall(r'href="(/[^"#]*)', body)


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", urlsplit(path).path) + ("?" if urlsplit(path).query else "")


def test_the_page_checker_finds_what_a_browser_would_run():
    """The check every page of this package goes through (conftest.inline_script), on known cases."""
    for bad in ("<script>alert(1)</script>", "<SCRIPT type=module>x</SCRIPT>", '<img src=x onerror="alert(1)">',
                "<body onload=x>", '<a href=" JaVaScRiPt:alert(1)">x</a>', '<form action="javascript:x">',
                '<iframe src="data:text/html,x">', '<p style="color:red">', "<style>p{}</style>",
                '<svg><a xlink:href="javascript:x"></a></svg>'):
        assert inline_script(bad), bad
    for fine in ('<script src="/static/case56-diagram.js" defer></script>', "<p>javascript:alert(1)</p>",
                 '<input value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;">',
                 "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", '<a href="/cases?q=onload=1">x</a>'):
        assert not inline_script(fine), fine


def test_the_policy_itself():
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert script_src(CSP) == "script-src 'self'"
    assert "frame-ancestors 'none'" in CSP and "object-src 'none'" in CSP


def test_every_page_of_every_role_has_the_headers_and_no_inline_script(demo_app):
    """Crawl the links each role is shown (one of each route shape), from its home page: every answer —
    pages, downloads, redirects, refusals — goes through the checked client."""
    crawled: dict[str, int] = {}
    shared: dict[str, int] = {}  # the same page for everyone (API documentation) or a file: crawled once
    for role, username in ROLES.items():
        client = client_for(demo_app, username)
        queue, seen, own = deque(["/"]), {"/"}, {}
        while queue:
            path = queue.popleft()
            response = client.get(path, follow_redirects=True)
            assert response.status_code < 500, (role, path, response.status_code)
            crawled[role] = crawled.get(role, 0) + 1
            if response.mimetype != "text/html":
                continue
            for link in _links(response.get_data(as_text=True)):
                if link in seen or link.startswith("/static/"):
                    continue
                shape = _shape(link)
                shapes = shared if link.startswith(("/api/", "/statistics/export.")) else own
                if shapes.get(shape, 0) >= PER_PATTERN:
                    continue
                shapes[shape] = shapes.get(shape, 0) + 1
                seen.add(link)
                queue.append(link)
    # Each role reached its own pages (a crawl that stopped at the home page would prove nothing).
    assert crawled["officer"] >= 12 and crawled["supervisor"] >= 8 and crawled["admin"] >= 6, crawled
    assert all(count >= 3 for count in crawled.values()), crawled


def test_headers_on_static_api_errors_and_refusals(app):
    case_id = open_case(app)
    anonymous = app.test_client()
    officer = client_for(app, "canbo")
    responses = {
        "static css": anonymous.get("/static/case56.css"),
        "static js": anonymous.get("/static/case56-diagram.js"),
        "log-in page": anonymous.get("/login"),
        "redirect to log-in": anonymous.get(f"/cases/{case_id}"),
        "unknown page": officer.get("/no/such/page"),
        "wrong method": officer.put("/cases"),
        "missing CSRF": officer.post("/language", data={"locale": "en"}),
        "refused case": client_for(app, "canbo2").get(f"/cases/{case_id}"),
        "PDF": officer.get(f"/cases/{case_id}/dossier.pdf"),
        "API without token": anonymous.get("/api/v1/tasks"),
        "API unknown": anonymous.get("/api/v1/nothing"),
        "API document": anonymous.get("/api/v1/openapi.json"),
        "API page": anonymous.get("/api/v1/docs"),
    }
    expected = {"static css": 200, "static js": 200, "log-in page": 200, "redirect to log-in": 302,
                "unknown page": 404, "wrong method": 405, "missing CSRF": 400, "refused case": 404, "PDF": 200,
                "API without token": 401, "API unknown": 404, "API document": 200, "API page": 200}
    for name, response in responses.items():
        assert response.status_code == expected[name], (name, response.status_code)
        check_response(response, name)  # the checked client did too; said here so the test reads whole
    assert responses["static js"].mimetype == "text/javascript"
    assert responses["API without token"].mimetype == "application/json"
    assert responses["PDF"].mimetype == "application/pdf"
    # Refusals in the browser are the app's own pages, in the user's language, with the way back.
    pages = {name: html.unescape(responses[name].get_data(as_text=True))
             for name in ("unknown page", "wrong method", "missing CSRF")}
    assert "Không tìm thấy trang hoặc hồ sơ này" in pages["unknown page"]
    assert "Trang này không nhận yêu cầu kiểu này." in pages["wrong method"]
    assert "biểu mẫu không được gửi đi" in pages["missing CSRF"]
    assert all('href="/"' in page and "Not Found" not in page and "Bad Request" not in page for page in pages.values())


def test_error_pages_speak_english_to_english_users(app):
    officer = client_for(app, "canbo")
    officer.post("/language", data={"locale": "en", "csrf_token": token(officer.get("/").get_data(as_text=True))})
    missing = html.unescape(officer.get("/no/such/page").get_data(as_text=True))
    refused = html.unescape(officer.post("/language", data={"locale": "vi"}).get_data(as_text=True))
    assert "This page or case does not exist, or it is outside your scope." in missing
    assert "nothing was saved" in refused and "CSRF" not in refused


def test_an_unexpected_error_is_the_apps_500_page_without_a_traceback(app):
    def boom():
        raise RuntimeError("secret detail: connection string postgresql://user:password@db")

    app.add_url_rule("/_test/failure", "test_failure", boom)  # test-only route, on this test's app only
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: TESTING would re-raise it into the test
    response = client_for(app, "canbo").get("/_test/failure")
    assert response.status_code == 500 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "Lỗi hệ thống" in body and "không có gì được lưu" in body and 'href="/"' in body  # the app's own page
    for leak in ("Traceback", "RuntimeError", "secret detail", "password", "boom", "werkzeug", "File \""):
        assert leak not in body, leak
    assert not app.debug and not app.config["DEBUG"]


def _cookie(response, name: str = "session") -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_session_cookie_is_httponly_and_samesite_and_not_secure_in_development(app):
    client = app.test_client()
    response = client.post("/login", data={"username": "canbo", "password": demo.DEMO_PASSWORD,
                                           "csrf_token": token(client.get("/login").get_data(as_text=True))})
    assert response.status_code == 302
    cookie = _cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on a developer's machine
    assert "Strict-Transport-Security" not in response.headers
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))  # no long-lived log-in


# -- production configuration ---------------------------------------------------------------------------------

STRONG = "0123456789abcdef" * 4  # 64 characters


@pytest.fixture
def production(monkeypatch, tmp_path):
    """The environment of a production server; each test sets (or leaves out) SECRET_KEY and debug."""
    monkeypatch.setenv("CASE56_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.chdir(tmp_path)  # create_app's instance folder: nothing is written into the project

    def make(**overrides):
        return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite3'}", **overrides})

    return make


@pytest.mark.parametrize("secret", [None, "", "short-secret", config_module.DEFAULT_SECRET, "x" * 31])
def test_production_refuses_a_missing_short_or_default_secret_key(production, monkeypatch, case_engine, secret):
    if secret is not None:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        production(CASE56_ENGINE=case_engine)


def test_production_refuses_debug_mode(production, monkeypatch, case_engine):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    with pytest.raises(RuntimeError, match="debug"):
        production(CASE56_ENGINE=case_engine, DEBUG=True)
    monkeypatch.setenv("FLASK_DEBUG", "1")  # how `flask run --debug` turns it on
    with pytest.raises(RuntimeError, match="debug"):
        production(CASE56_ENGINE=case_engine)


def test_production_starts_with_a_proper_secret_and_secure_cookies(production, monkeypatch, case_engine, app):
    """The `app` fixture seeded the demo people on the test database; the production app signs in there."""
    monkeypatch.setenv("SECRET_KEY", STRONG)
    prod = production(CASE56_ENGINE=case_engine, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    assert prod.config["CASE56_ENV"] == "production" and prod.secret_key == STRONG
    assert not prod.debug and prod.config["SESSION_COOKIE_SECURE"] and prod.config["SESSION_COOKIE_HTTPONLY"]
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    prod.test_client_class = app.test_client_class
    client = prod.test_client()
    page = client.get("/login", base_url="https://case56.example")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    response = client.post("/login", base_url="https://case56.example",
                           headers={"Referer": "https://case56.example/login"}, data={
        "username": "canbo", "password": demo.DEMO_PASSWORD, "csrf_token": token(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    cookie = _cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with prod.app_context():
        db.session.remove()
        db.engine.dispose()
