"""Sessions live on the server: logging out ends the session for good (a cookie copied before no longer works);
"log out everywhere" for oneself and by an administrator for a user (audited); changing or resetting a password
ends the other sessions; a session idle past the lifetime is refused by the server too. Both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import clock
from engine.models import AuditEntry, LoginSession
from tests.web.casework_kit import client_for, token
from web import demo
from web.extensions import db


def _copy(client, app):
    """Another browser holding a copy of `client`'s session cookie (what a thief or a shared PC keeps)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _signed_in(client) -> bool:
    response = client.get("/account/sessions")  # a page every role has
    assert response.status_code == 200 or "/login" in response.headers["Location"]
    return response.status_code == 200


def _csrf(client, path: str = "/account/sessions") -> str:
    return token(client.get(path).get_data(as_text=True))


def _audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                       .order_by(AuditEntry.id)))
        db.session.remove()
    return rows


def _login(client, username: str, password: str) -> int:
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token(page)}).status_code


def test_a_cookie_copied_before_logout_no_longer_works(app):
    client = client_for(app, "canbo")
    stolen = _copy(client, app)
    assert _signed_in(stolen)  # the copy works while the session is open
    response = client.post("/logout", data={"csrf_token": _csrf(client, "/")})
    assert response.status_code == 302
    assert not _signed_in(stolen)
    assert stolen.get("/").status_code == 302
    assert not _signed_in(client)
    with app.app_context():
        row = db.session.scalar(select(LoginSession))
        assert row.ended_at is not None and row.end_reason == "logout" and row.ended_by == "canbo"
        db.session.remove()
    assert [a.actor for a in _audits(app, "logout")] == ["canbo"]


def test_logout_ends_only_that_session(app):
    office, phone = client_for(app, "canbo"), client_for(app, "canbo")
    office.post("/logout", data={"csrf_token": _csrf(office, "/")})
    assert not _signed_in(office) and _signed_in(phone)


def test_log_out_everywhere_ends_every_session_of_the_account(app):
    office, phone, other_user = client_for(app, "canbo"), client_for(app, "canbo"), client_for(app, "chutich")
    copy = _copy(phone, app)
    page = office.get("/account/sessions")
    assert page.status_code == 200 and "Phiên này" in page.get_data(as_text=True)
    response = office.post("/account/sessions/end", data={"csrf_token": _csrf(office)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not any(_signed_in(c) for c in (office, phone, copy))
    assert _signed_in(other_user)
    (entry,) = _audits(app, "sessions_ended")
    assert entry.actor == "canbo" and entry.details["sessions"] == 2 and entry.details["reason"] == "everywhere"
    # Signing in again works: a new session.
    assert _login(app.test_client(), "canbo", demo.DEMO_PASSWORD) == 302


def test_changing_ones_password_ends_the_other_sessions(app):
    office, phone = client_for(app, "canbo"), client_for(app, "canbo")
    new = "mat-khau-moi-2026"
    refused = office.post("/account/password", data={"csrf_token": _csrf(office), "current_password": "sai",
                                                      "new_password": new, "confirm_password": new})
    assert refused.status_code == 422 and "Mật khẩu hiện tại không đúng" in refused.get_data(as_text=True)
    assert _signed_in(phone)
    short = office.post("/account/password", data={"csrf_token": _csrf(office), "current_password":
                                                    demo.DEMO_PASSWORD, "new_password": "ngan",
                                                    "confirm_password": "ngan"})
    assert short.status_code == 422 and "ít nhất 8 ký tự" in short.get_data(as_text=True)
    done = office.post("/account/password", data={"csrf_token": _csrf(office), "current_password":
                                                   demo.DEMO_PASSWORD, "new_password": new, "confirm_password": new})
    assert done.status_code == 303
    assert _signed_in(office) and not _signed_in(phone)
    (entry,) = _audits(app, "password_changed")
    assert entry.actor == "canbo" and entry.details["sessions_ended"] == 1
    assert _login(app.test_client(), "canbo", demo.DEMO_PASSWORD) == 401
    assert _login(app.test_client(), "canbo", new) == 302


def test_an_administrator_logs_a_user_out_everywhere(app):
    user_office, user_phone = client_for(app, "canbo"), client_for(app, "canbo")
    admin = client_for(app, "quantri")
    with app.app_context():
        user_id = db.session.scalar(select(LoginSession.user_id))
        db.session.remove()
    page = admin.get(f"/admin/users/{user_id}")
    assert "Đang có 2 phiên đăng nhập" in page.get_data(as_text=True)
    # Nobody else may do it.
    officer = client_for(app, "chutich")
    assert officer.post(f"/admin/users/{user_id}/sessions/end",
                        data={"csrf_token": _csrf(officer, "/")}).status_code == 403
    assert _signed_in(user_office)
    response = admin.post(f"/admin/users/{user_id}/sessions/end",
                          data={"csrf_token": token(page.get_data(as_text=True))})
    assert response.status_code == 303
    assert not _signed_in(user_office) and not _signed_in(user_phone) and _signed_in(admin)
    (entry,) = _audits(app, "sessions_ended")
    assert entry.actor == "quantri" and entry.details == {"user": "canbo", "sessions": 2, "reason": "admin"}


def test_an_administrators_password_reset_signs_the_user_out(app):
    user = client_for(app, "canbo")
    admin = client_for(app, "quantri")
    with app.app_context():
        user_id = db.session.scalar(select(LoginSession.user_id).order_by(LoginSession.id))
        db.session.remove()
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    response = admin.post(f"/admin/users/{user_id}/password", data={
        "csrf_token": token(page), "new_password": "dat-lai-2026", "confirm_password": "dat-lai-2026"})
    assert response.status_code == 303
    assert not _signed_in(user)
    (entry,) = _audits(app, "password_reset")
    assert entry.details["sessions_ended"] == 1


def test_a_session_idle_past_its_lifetime_is_refused_by_the_server(app):
    """Even when a client keeps its cookie beyond the expiry it was given."""
    client = client_for(app, "canbo")
    assert _signed_in(client)
    with app.app_context():
        row = db.session.scalar(select(LoginSession))
        row.last_seen_at = clock.now() - app.permanent_session_lifetime - timedelta(minutes=6)
        db.session.commit()
        db.session.remove()
    assert not _signed_in(client)


def test_a_session_cookie_without_a_server_session_is_signed_out(app):
    """A cookie from before server-side sessions (user id only) signs nobody in."""
    client = client_for(app, "canbo")
    with client.session_transaction() as cookie_session:
        del cookie_session["sid"]
    assert not _signed_in(client)
