"""API authentication by personal tokens, and the token page (/account/tokens) that makes and revokes them."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select, update

from engine import clock
from engine.models import ApiToken, AuditEntry, User
from engine.sqlcount import count_statements
from tests.api.apikit import assert_error
from web.extensions import db


def _csrf(client, path: str = "/account/tokens") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": "demo12345", "csrf_token": csrf})
    assert response.status_code == 302


def test_missing_malformed_and_unknown_tokens_are_refused_with_json_401(client, token):
    response = client.get("/api/v1/me")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "c56_abc", "Bearer c56_" + "x" * 43,
                   "Bearer " + "y" * 500):
        response = client.get("/api/v1/tasks", headers={"Authorization": header})
        assert_error(response, 401, "unauthorized")
    good = token("canbo")
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer {good}"}).status_code == 200


def test_token_is_stored_hashed_with_a_prefix_and_identifies_its_user(app, client, token):
    raw = token("giamsat")
    assert raw.startswith("c56_") and len(raw) > 40
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert row.prefix == raw[:12]
        stored = " ".join(str(getattr(row, c.key)) for c in ApiToken.__table__.columns)
        assert raw not in stored and raw[12:] not in stored
        assert row.last_used_at is None
    body = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert body["username"] == "giamsat" and body["role"] == "supervisor" and body["unit"] == "T01"
    assert body["token_prefix"] == raw[:12]
    with app.app_context():
        assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_revoked_expired_and_deactivated_tokens_are_refused(app, client, token):
    revoked, expired, inactive = token("canbo"), token("chutich"), token("canbo2")
    for raw in (revoked, expired, inactive):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    with app.app_context():
        now = clock.now()
        db.session.execute(update(ApiToken).where(ApiToken.prefix == revoked[:12]).values(revoked_at=now))
        db.session.execute(update(ApiToken).where(ApiToken.prefix == expired[:12])
                           .values(expires_at=now - timedelta(seconds=1)))
        db.session.execute(update(User).where(User.username == "canbo2").values(active=False))
        db.session.commit()
    for raw in (revoked, expired, inactive):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
        body = assert_error(response, 401, "unauthorized")
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert "thu hồi" in body["message"]


def test_a_web_session_cookie_does_not_authenticate_the_api(client):
    _login(client, "canbo")
    assert client.get("/account/tokens").status_code == 200  # signed in on the web
    assert_error(client.get("/api/v1/me"), 401)
    # …and the API is exempt from CSRF because it only ever acts on a bearer token.
    assert_error(client.post("/api/v1/reports", json={"commune": "T01-X01", "report": {}}), 401)


def test_an_api_request_reads_its_token_once_and_never_the_browser_session(app, client, token):
    """Issue 20: the token, its owner and the owner's unit come in one read, fresh on every request; a session cookie
    the browser sends along is not looked at (no sign-in lookup, no last-seen write)."""
    _login(client, "canbo")
    headers = {"Authorization": f"Bearer {token('chutich')}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # its first use is stamped (a commit)
    with app.app_context():
        bind = db.engine
        unit = db.session.scalar(select(User).where(User.username == "chutich")).org_unit
        expected = (unit.code, unit.name)
        db.session.remove()
    with count_statements(bind) as counter:
        response = client.get("/api/v1/me", headers=headers)
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["username"], body["unit"], body["unit_name"]) == ("chutich", *expected)
    assert counter.count == 1 and "login_session" not in counter.statements[0], counter.statements


def test_token_page_creates_a_token_shown_once_and_it_works(app, client):
    assert client.get("/account/tokens").status_code == 302  # log-in first
    _login(client, "tiepnhan")
    csrf = _csrf(client)
    response = client.post("/account/tokens", data={"name": "Tổng đài 111", "days": "30", "csrf_token": csrf})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    raw = re.search(r'id="new-token"[^>]*value="(c56_[^"]+)"', page).group(1)
    assert "Tổng đài 111" in page
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).get_json()["username"] == "tiepnhan"
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert raw not in listing and raw[:12] in listing  # never shown again; the prefix names it
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.expires_at - row.created_at == timedelta(days=30)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token_created"))
        assert entry.actor == "tiepnhan" and entry.details["prefix"] == raw[:12]


def test_token_page_refuses_bad_input_with_field_messages_and_without_csrf(app, client):
    _login(client, "canbo")
    csrf = _csrf(client)
    response = client.post("/account/tokens", data={"name": "   ", "days": "7", "csrf_token": csrf})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Hãy đặt tên cho mã truy cập" in page and "Hãy chọn một thời hạn" in page
    assert 'aria-invalid="true"' in page
    response = client.post("/account/tokens", data={"name": "x" * 101, "days": "90", "csrf_token": csrf})
    assert response.status_code == 400 and "Tên tối đa 100 ký tự" in response.get_data(as_text=True)
    assert client.post("/account/tokens", data={"name": "no csrf", "days": "90"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_at_most_ten_active_tokens_per_user(client, token):
    for _ in range(10):
        token("canbo")
    _login(client, "canbo")
    response = client.post("/account/tokens", data={"name": "one more", "days": "0", "csrf_token": _csrf(client)})
    assert response.status_code == 400 and "10 mã đang dùng" in response.get_data(as_text=True)


def test_owner_revokes_and_the_token_stops_working(app, client, token):
    raw = token("canbo")
    _login(client, "canbo")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    response = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": _csrf(client)})
    assert response.status_code == 302
    assert_error(client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}), 401)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "Đã thu hồi" in page
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token_revoked"))
        assert entry.actor == "canbo" and entry.details["user"] == "canbo"


def test_others_cannot_revoke_a_token_but_an_administrator_can(app, token):
    raw = token("canbo")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    stranger = app.test_client()
    _login(stranger, "canbo2")
    assert raw[:12] not in stranger.get("/account/tokens").get_data(as_text=True)
    assert stranger.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": _csrf(stranger)}).status_code == 404
    assert stranger.post("/account/tokens/99999999999/revoke", data={"csrf_token": _csrf(stranger)}).status_code == 404
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200

    admin = app.test_client()
    _login(admin, "quantri")
    listing = admin.get("/account/tokens").get_data(as_text=True)
    assert raw[:12] in listing and "canbo" in listing
    assert admin.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": _csrf(admin)}).status_code == 302
    assert_error(app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}), 401)
    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        assert row.revoked_by == "quantri"


def test_token_page_in_english(client):
    _login(client, "canbo")
    client.post("/language", data={"locale": "en", "csrf_token": _csrf(client)})
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "API tokens" in page and "Create token" in page
