"""Access: CSRF on every POST form, expired and tampered sessions, revoked API tokens, brute-force log-in,
guessed case ids, and the informant's identity per role.

(The role × page × scope matrix is tests/web/test_authorization_matrix.py; token basics are tests/api.)
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
import time_machine
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from engine import access, clock, releases
from engine.models import ApiToken, Attachment, CalendarDay, Case, OrgUnit, ServiceProvider, Task, User
from tests.api.apikit import assert_error
from tests.security import kit
from tests.web.casework_kit import case_of, client_for, flatten, open_case, ready_task, token
from web import demo
from web.extensions import db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
WRONG = "sai-mat-khau-1"
BAD_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
LOCKED = "Tài khoản tạm khoá do đăng nhập sai nhiều lần"


def body(response) -> str:
    return response.get_data(as_text=True)


# -- CSRF -----------------------------------------------------------------------------------------------------

@dataclass
class Post:
    endpoint: str
    who: str | None  # username, None: signed out
    path: str
    data: Callable[[], dict[str, Any]]  # valid data: only the token is missing or wrong
    ok: int  # the status once the token is right


def _csrf_world(app) -> list[Post]:
    """One valid request per POST form of the web UI, against cases and rows made for it."""
    now = clock.now()
    escalated = open_case(app, hours_ago=13)  # the 12-hour limit has passed: the supervisor has an escalation
    verify = ready_task(app, escalated, "verify")
    moving = open_case(app)
    owned = ready_task(app, open_case(app), "verify")  # claimed, released, assigned, reminded (issue 17)
    closed = open_case(app, choices={"verification": {"has_basis": False, "reason_no_basis": "Không có sự việc."}})
    planned = open_case(app, stop_at="carry_out_activity")
    raw = kit.api_token(app, "canbo")
    with app.app_context():
        escalation = db.session.scalar(select(Task.id).where(Task.escalates_task_id == verify))
        activity = db.session.scalar(select(Task.id).where(Task.case_id == planned, Task.assignee == "yte"))
        canbo = db.session.scalar(select(User.id).where(User.username == "canbo"))
        commune = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01-X02"))
        province = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01"))
        provider = db.session.scalar(select(ServiceProvider.id).where(ServiceProvider.code == "T01-DV-03"))
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == raw[:12]))
        version_id = db.session.scalar(select(Case.process_version_id).where(Case.id == planned))
        checked = db.session.scalar(select(Task.id).where(Task.case_id == closed, Task.form == "verification"))
        approval = db.session.scalar(select(Task.id).where(Task.case_id == planned, Task.step == "approve_plan"))
        day = date(2099, 1, 2)
        db.session.add(CalendarDay(day=day, working=False, note="Nghỉ bù", created_by="quantri"))
        db.session.commit()
        db.session.remove()
    assert escalation and case_of(app, closed).status == "no_basis"
    with app.app_context():  # a mark to take back (engine.releases)
        releases.mark(db.session, demo.cast(db.session).actors["canbo"], checked, "reason_no_basis")
        db.session.remove()
    request_step, notified, quiet = _privacy_world(app, case_of(app, escalated).number)
    records = _records_world(app)

    def version(case_id: int) -> str:
        return str(case_of(app, case_id).version)

    reopen = {**{f"reopen.{k}": v for k, v in flatten(demo.sample("reopen", now)).items()},
              **{f"report.{k}": v for k, v in flatten(demo.sample("mau_01", now)).items()}}
    return [
        Post("supervisor.acknowledge", "giamsat", f"/supervisor/escalations/{escalation}/ack",
             lambda: {"note": "Đã đôn đốc."}, 303),
        Post("steps.task", "canbo", f"/tasks/{verify}",
             lambda: {**flatten(demo.sample("verification", now)), "_action": "complete",
                      "_version": version(escalated)}, 302),
        Post("cases.transfer", "canbo", f"/cases/{moving}/transfer",
             lambda: {**flatten(demo.sample("transfer", now)), "_version": version(moving)}, 302),
        Post("cases.reopen", "canbo", f"/cases/{closed}/reopen", lambda: dict(reopen), 302),
        Post("assign.reassign", "canbo", f"/tasks/{activity}/reassign",
             lambda: {"assignee": "ctxh", "reason": "Trạm y tế quá tải.", "_version": version(planned)}, 302),
        # Issue 17: who holds a step (engine.ownership), in the order the right-token pass runs them.
        Post("ownership.claim", "canbo", f"/tasks/{owned}/claim", dict, 302),
        Post("ownership.release", "canbo", f"/tasks/{owned}/release", dict, 302),
        Post("ownership.assign", "chutich", f"/tasks/{owned}/assign",
             lambda: {"assignee": "canbo", "reason": "Phụ trách địa bàn."}, 302),
        Post("ownership.remind", "giamsat", f"/tasks/{owned}/remind", lambda: {"note": "Sắp hết hạn."}, 302),
        # Issue 16: a separation asked for at any point (Art. 32), a plan adjustment while activities run (29.1a).
        Post("cases.request_separation", "chutich", f"/cases/{planned}/separation",
             lambda: {**flatten(demo.sample("separation_request", now)), "_version": version(planned)}, 302),
        Post("cases.propose_adjustment", "canbo", f"/cases/{planned}/adjustment",
             lambda: {"_version": version(planned)}, 302),
        Post("attachments.upload", "canbo", f"/cases/{escalated}/attachments/new",
             lambda: {"file": (io.BytesIO(PNG), "anh.png"), "description": "Ảnh"}, 302),
        Post("releases.mark", "canbo", f"/cases/{closed}/releases",
             lambda: {"task_id": str(checked), "field": "findings", "reason": "Sở cần nắm."}, 303),
        Post("releases.revoke", "canbo", f"/cases/{closed}/releases/revoke",
             lambda: {"task_id": str(checked), "field": "reason_no_basis"}, 303),
        # A child no earlier case is about: a match would first show the possible duplicates (issue 17).
        Post("reports.new", "canbo", "/reports/new",
             lambda: {**flatten(demo.sample("mau_01", now, child={"full_name": "Đinh Văn Khác", "estimated_age": 7,
                                                                  "sex": "male"})), "_commune": "T01-X01"}, 302),
        # Personal data protection (issue 18).
        Post("representatives.case_representatives", "canbo", f"/cases/{escalated}/representatives",
             lambda: {"full_name": "Trần Thị Bình", "relation": "mother", "alleged_abuser": "false"}, 302),
        Post("privacy.new_request", "quantri", "/admin/privacy/requests/new",
             lambda: {"case_number": case_of(app, escalated).number, "received_at": _minutes_ago(30),
                      "requester_kind": "child", "requester_name": "Nguyễn Văn An", "request_type": "view",
                      "identity_document": "CCCD", "details": "Xem dữ liệu."}, 302),
        Post("privacy.complete_step", "quantri", f"/admin/privacy/requests/{request_step[0]}/steps/{request_step[1]}",
             lambda: {"identity_verified": "true", "decision": "accept", "reply": "Đã nhận."}, 302),
        Post("privacy.new_breach", "quantri", "/admin/privacy/breaches/new",
             lambda: {"discovered_at": _minutes_ago(60), "discovered_by": "Cán bộ xã", "description": "Mất máy.",
                      "data_categories": "identity", "subjects_count": "1"}, 302),
        Post("privacy.notify_breach", "quantri", f"/admin/privacy/breaches/{notified}/notify",
             lambda: {"recipient": "a05", "sent_at": _minutes_ago(10), "reference": "CV 1", "content": "Thông báo."},
             302),
        Post("privacy.close_breach", "quantri", f"/admin/privacy/breaches/{quiet}/close",
             lambda: {"outcome": "Đã khắc phục.", "subjects_informed": "false"}, 302),
        # Restriction of processing, legal hold, two-person destruction (issue 18).
        Post("records.restrict", "quantri", "/admin/restrictions",
             lambda: {"case_number": records["restrict"], "authority": "Công an tỉnh", "document_number": "1/CV",
                      "document_date": "01/12/2026", "reason": "Tạm dừng xử lý."}, 302),
        Post("records.lift", "quantri", f"/admin/restrictions/{records['restriction']}/lift",
             lambda: {"reason": "Rút đề nghị."}, 302),
        Post("records.hold", "quantri", "/admin/retention/holds",
             lambda: {"case_number": records["restrict"], "reason": "Toà án thụ lý."}, 302),
        Post("records.release", "quantri", f"/admin/retention/holds/{records['hold']}/release",
             lambda: {"reason": "Kết thúc."}, 302),
        Post("records.destruction_request", "quantri", "/admin/retention/destructions",
             lambda: {"reason": "Hết thời hạn lưu trữ."}, 302),
        Post("records.destruction_confirm", "quantri", f"/admin/retention/destructions/{records['confirm']}/confirm",
             lambda: {"note": "Đã kiểm tra."}, 302),
        Post("records.destruction_cancel", "quantri", f"/admin/retention/destructions/{records['cancel']}/cancel",
             lambda: {"note": "Chờ ý kiến."}, 302),
        Post("admin.user_new", "quantri", "/admin/users/new",
             lambda: {"username": "moi", "full_name": "Người Mới", "role": "officer", "unit": str(commune),
                      "locale": "vi", "password": "mat-khau-moi-1"}, 303),
        Post("admin.user_edit", "quantri", f"/admin/users/{canbo}",
             lambda: {"full_name": "Trần Văn Cán Bộ (sửa)", "role": "officer", "unit": str(
                 _unit_of(app, "canbo")), "locale": "vi", "active": "1"}, 303),
        Post("admin.user_unlock", "quantri", f"/admin/users/{canbo}/unlock", dict, 303),
        Post("admin.units", "quantri", "/admin/units",
             lambda: {"code": "T01-X09", "name": "Xã Mới", "kind": "commune", "parent": str(province)}, 303),
        Post("admin.unit_rename", "quantri", f"/admin/units/{commune}/rename", lambda: {"name": "Xã Đổi Tên"}, 303),
        Post("providers.new", "quantri", "/admin/providers/new",
             lambda: {"code": "T01-DV-77", "name": "Cơ sở mới", "service_type": "other", "unit": str(province)}, 303),
        Post("providers.edit", "quantri", f"/admin/providers/{provider}",
             lambda: {"name": "Trung tâm Trợ giúp pháp lý (sửa)", "service_type": "legal_aid", "unit": str(province)},
             303),
        Post("providers.set_active", "quantri", f"/admin/providers/{provider}/active", lambda: {"active": "false"},
             303),
        Post("national_db.confirm", "canbo", f"/cases/{planned}/national-db/{approval}",
             lambda: {"entered_on": clock.local(now).strftime("%d/%m/%Y")}, 303),
        Post("admin.calendar", "quantri", "/admin/calendar",
             lambda: {"day": "03/01/2099", "working": "off", "note": "Nghỉ theo thông báo"}, 303),
        Post("admin.calendar_delete", "quantri", f"/admin/calendar/{day.isoformat()}/delete", dict, 303),
        # The shipped file again (already recorded), the active version again, a province on its own version
        # already following the country: each answered, none a change — the token is what is tested.
        Post("admin.process_upload", "quantri", "/admin/processes/upload",
             lambda: {"file": (io.BytesIO(SHIPPED_BPMN.read_bytes()), "decree56.bpmn")}, 303),
        Post("admin.process_activate", "quantri", f"/admin/processes/{version_id}/activate", dict, 303),
        Post("admin.process_follow_national", "quantri", "/admin/processes/provinces/T01/national", dict, 303),
        Post("admin.process_migrate", "quantri", f"/admin/processes/{version_id}/migrate",
             lambda: {"case_ids": str(planned), "mapping": ""}, 200),
        Post("api_tokens.create", "canbo", "/account/tokens", lambda: {"name": "Máy chủ 111", "days": "30"}, 201),
        Post("api_tokens.revoke", "canbo", f"/account/tokens/{token_id}/revoke", dict, 302),
        Post("auth.language", "canbo", "/language", lambda: {"locale": "en", "next": "/"}, 302),
        Post("auth.change_password", "thanhtra", "/account/password",
             lambda: {"current_password": demo.DEMO_PASSWORD, "new_password": "mat-khau-moi-3",
                      "confirm_password": "mat-khau-moi-3"}, 303),
        Post("auth.end_everywhere", "thanhtra", "/account/sessions/end", dict, 302),
        Post("auth.logout", "canbo", "/logout", dict, 302),
        Post("admin.user_sessions_end", "quantri", f"/admin/users/{canbo}/sessions/end", dict, 303),
        # A password reset signs the user out everywhere: after the user's own posts.
        Post("admin.user_password", "quantri", f"/admin/users/{canbo}/password",
             lambda: {"new_password": "mat-khau-moi-2", "confirm_password": "mat-khau-moi-2"}, 303),
        Post("auth.login", None, "/login", lambda: {"username": "chutich", "password": demo.DEMO_PASSWORD}, 302),
    ]


def _minutes_ago(minutes: int) -> str:
    return clock.local(clock.now() - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def _privacy_world(app, case_number: str) -> tuple[tuple[int, int], int, int]:
    """A data subject's request waiting for its acknowledgement, a breach to notify and one to close."""
    from engine import breaches, data_requests

    report = {"discovered_at": _minutes_ago(120), "discovered_by": "Cán bộ xã", "description": "Mất máy.",
              "data_categories": ["identity"], "subjects_count": 1}
    with app.app_context():
        engine, admin = app.extensions["case56_engine"], demo.cast(db.session).actors["quantri"]
        process = data_requests.of(engine)
        request = process.receive(db.session, admin, {
            "case_number": case_number, "received_at": _minutes_ago(60), "requester_kind": "child",
            "requester_name": "Nguyễn Văn An", "request_type": "copy", "identity_document": "CCCD",
            "details": "Bản sao."})
        step = process.open_step(db.session, request.id)
        assert step is not None
        notified = breaches.record(engine, db.session, admin, {**report, "risks": ["dignity"]}).id
        quiet = breaches.record(engine, db.session, admin, report).id
        ids = (request.id, step.id), notified, quiet
        db.session.remove()
    return ids


def _records_world(app) -> dict[str, Any]:
    """A case to restrict and hold, a restriction to lift, a hold to release, and a case past a one-year
    retention with two destruction requests by a second administrator (one to confirm, one to cancel)."""
    from engine import restriction, retention

    policy = Path(app.config["CASE56_ATTACHMENTS"]).parent / "retention.toml"
    policy.write_text('[classes.y1]\nyears = 1\n[records.case_file]\nclass = "y1"\n'
                      '[records.attachment]\nclass = "y1"\n')
    app.config["CASE56_RETENTION_FILE"] = str(policy)
    target, restricted = open_case(app), open_case(app)
    old = open_case(app, choices={"verification": {"has_basis": False, "reason_no_basis": "Không có sự việc."}})
    with app.app_context():
        admin = demo.cast(db.session).actors["quantri"]
        second = access.Actor("quantri2", "admin")
        db.session.add(User(username="quantri2", full_name="Quản Trị Hai", role="admin", password_hash="x",
                            created_at=clock.now(), locale="vi"))
        closed_at = db.session.get(Case, old).closed_at
        db.session.execute(update(Case).where(Case.id == old).values(closed_at=closed_at - timedelta(days=800)))
        db.session.commit()
        order = {"authority": "Công an tỉnh", "document_number": "2/CV", "document_date": "01/12/2026",
                 "reason": "Tạm dừng."}
        found = {"restrict": db.session.get(Case, target).number,
                 "restriction": restriction.restrict(db.session, admin, restricted, order).id,
                 "hold": retention.place_hold(db.session, admin, restricted, {"reason": "Thanh tra."}).id}
        loaded = retention.Policy.load(policy)
        found["confirm"] = retention.request(db.session, second, loaded, {"reason": "Hết hạn."}).id
        found["cancel"] = retention.request(db.session, second, loaded, {"reason": "Hết hạn."}).id
        db.session.remove()
    return found


SHIPPED_BPMN = Path(__file__).resolve().parents[2] / "processes" / "decree56.bpmn"


def _unit_of(app, username: str) -> int:
    with app.app_context():
        value = db.session.scalar(select(User.org_unit_id).where(User.username == username))
        db.session.remove()
    return value


def test_every_post_form_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing(app):
    posts = _csrf_world(app)
    assert {p.endpoint for p in posts} == kit.web_post_endpoints(app), "a POST form is not covered here"
    clients = {who: client_for(app, who) for who in {p.who for p in posts if p.who}}
    clients[None] = app.test_client()
    tokens = {who: token(body(c.get("/login" if who is None else "/account/tokens"))) for who, c in clients.items()}
    stranger = app.test_client()
    foreign = token(body(stranger.get("/login")))  # valid, but of another session
    forged = URLSafeTimedSerializer("another-secret-key-0123456789abcdef", salt="wtf-csrf-token").dumps("x" * 40)
    bad_tokens = {"missing": None, "empty": "", "garbage": "not-a-token", "other session": foreign,
                  "other secret": forged, "truncated": tokens["canbo"][:-6]}
    before = kit.snapshot(app)
    refused = 0
    for post in posts:
        client = clients[post.who]
        for label, value in bad_tokens.items():
            data = post.data()
            if value is not None:
                data["csrf_token"] = value
            response = client.post(post.path, data=data, headers={"X-CSRFToken": ""})
            assert response.status_code == 400, (post.endpoint, label, response.status_code)
            assert "biểu mẫu không được gửi đi" in body(response), (post.endpoint, label)
            refused += 1
    assert refused == len(posts) * len(bad_tokens)
    assert kit.changed(before, kit.snapshot(app)) == []  # not one row, not even an audit row
    # The same requests with the right token do what they say: the token was all that was missing.
    for post in posts:
        response = clients[post.who].post(post.path, data={**post.data(), "csrf_token": tokens[post.who]})
        assert response.status_code == post.ok, (post.endpoint, response.status_code, body(response)[:400])
    assert {"case_file", "task", "audit", "user_account", "org_unit", "calendar_day", "api_token",
            "attachment"} <= set(kit.changed(before, kit.snapshot(app)))


# -- sessions -------------------------------------------------------------------------------------------------

def test_an_idle_session_expires_and_sends_to_the_log_in(app):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=1)
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        client = client_for(app, "canbo")
        page = client.get("/")
        assert page.status_code == 200
        cookie = next(h for h in page.headers.getlist("Set-Cookie") if h.startswith("session="))
        assert "Expires=" in cookie  # the browser drops it too
        csrf_value = token(body(page))
        traveller.shift(timedelta(seconds=2))
        response = client.get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        before = kit.snapshot(app)
        stale = client.post("/language", data={"locale": "en", "csrf_token": csrf_value})
        assert stale.status_code == 400  # the form's token died with the session
        assert kit.changed(before, kit.snapshot(app)) == []
    # The configured lifetime (8 hours idle) holds too: 7 hours is fine, 8 hours and a minute is not.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=8)
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        client = client_for(app, "canbo")
        traveller.shift(timedelta(hours=7))
        assert client.get("/").status_code == 200  # each request renews the idle time
        traveller.shift(timedelta(hours=8, minutes=1))
        assert client.get("/").status_code == 302


def test_a_tampered_or_forged_session_cookie_is_signed_out(app):
    client = client_for(app, "canbo")
    assert client.get("/").status_code == 200
    value = client.get_cookie("session").value
    payload, _sep, signature = value.rpartition(".")
    # The first character: the last one of a base64 signature may carry only padding bits (still valid).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    with app.test_request_context():
        decoded = serializer.loads(value)
    admin_id = _user_id(app, "quantri")
    attacker = Flask("attacker")  # the same cookie format, signed with a guessed key
    attacker.secret_key = "attacker-guess-0123456789abcdef0123456789"
    forged = SecureCookieSessionInterface().get_signing_serializer(attacker).dumps(
        {**decoded, "_user_id": str(admin_id)})
    for label, cookie in (("signature changed", f"{payload}.{flipped}"), ("payload cut", value[5:]),
                          ("garbage", "not-a-session"), ("forged with another key", forged),
                          ("unsigned json", f'{{"_user_id": "{admin_id}"}}')):
        tampered = app.test_client()
        tampered.set_cookie("session", cookie)
        response = tampered.get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"], label
        assert tampered.get("/admin/users").status_code == 302, label


def _user_id(app, username: str) -> int:
    with app.app_context():
        value = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    return value


# -- brute force ----------------------------------------------------------------------------------------------

def _attempt(app, username: str, password: str):
    """One log-in attempt from a fresh browser; a refused one must leave it signed out."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token(body(client.get("/login")))})
    if response.status_code != 302:
        assert client.get("/").status_code == 302, "a refused log-in signed the browser in"
    return response


def _message(response) -> str:
    match = re.search(r'<p class="[^"]*error[^"]*"[^>]*>(.*?)</p>', body(response), re.S) or \
        re.search(r'role="alert"[^>]*>(.*?)<', body(response), re.S)
    return match.group(1).strip() if match else ""


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, fast_dummy_hash):
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        # Unknown names and wrong passwords get the same answer: nothing tells a real account from a guess.
        for attempt in range(5):
            known, unknown = _attempt(app, "canbo", WRONG), _attempt(app, f"khong-co-{attempt}", WRONG)
            assert known.status_code == unknown.status_code == 401
            assert BAD_LOGIN in body(known) and BAD_LOGIN in body(unknown)
            assert _message(known) == _message(unknown)
            guessed = _attempt(app, "khong-co-ai", WRONG)  # one unknown name, tried as often as the account
        # Locked: even the right password is refused, with the lock message.
        locked = _attempt(app, "canbo", demo.DEMO_PASSWORD)
        assert locked.status_code == 401 and LOCKED in body(locked) and "15 phút" in body(locked)
        # The unknown name tried five times is "locked" the same way: the lock tells no account from a guess.
        guessed = _attempt(app, "khong-co-ai", WRONG)
        assert guessed.status_code == 401 and _message(guessed) == _message(locked)
        assert _attempt(app, "CANBO", demo.DEMO_PASSWORD).status_code == 401  # names are case-insensitive
        assert _attempt(app, "chutich", demo.DEMO_PASSWORD).status_code == 302  # others are not locked
        traveller.shift(timedelta(minutes=14))
        still = _attempt(app, "canbo", demo.DEMO_PASSWORD)
        assert still.status_code == 401 and LOCKED in body(still) and "1 phút" in body(still)
        traveller.shift(timedelta(minutes=1, seconds=1))
        assert _attempt(app, "canbo", demo.DEMO_PASSWORD).status_code == 302  # the lock has lifted
    assert ("canbo", "login_locked") in kit.audit_actions(app)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "canbo"))
        assert user.locked_until is None and user.failed_logins == 0
        db.session.remove()
    # Four failures and a success start the count again.
    for _ in range(4):
        assert _attempt(app, "canbo", WRONG).status_code == 401
    assert _attempt(app, "canbo", demo.DEMO_PASSWORD).status_code == 302
    for _ in range(4):
        assert _attempt(app, "canbo", WRONG).status_code == 401
    assert _attempt(app, "canbo", demo.DEMO_PASSWORD).status_code == 302


# -- guessing other cases' ids --------------------------------------------------------------------------------

def test_guessed_ids_across_communes_and_provinces_are_404_and_never_audited(app):
    """Each person walks every case, task and attachment id (and a few past the end) on every page and API
    route that takes one. Outside their scope the answer is 404 — the same as for an id that does not exist —
    and no audit row is written for a refused read."""
    kit.seed_other_province(app)
    x01 = open_case(app, stop_at="initial_assessment")
    x02 = open_case(app, commune="T01-X02", hours_ago=13)
    with app.app_context():
        t02 = app.extensions["case56_engine"].open_case(
            db.session, demo.cast(db.session).actors["tiepnhan_t02"], "T02-X01",
            demo.sample("mau_01", clock.now() - timedelta(hours=13)))
        t02_id = t02.id
        for case_id in (x01, x02, t02_id):
            db.session.add(Attachment(case_id=case_id, sha256="0" * 64, size=1, content_type="image/png",
                                      file_name="a.png", uploaded_by="canbo", uploaded_at=clock.now()))
        db.session.commit()
        scope = {c.id: c.commune_id for c in db.session.scalars(select(Case))}
        tasks = {t.id: (t.case_id, t.escalates_task_id is not None, t.assignee)
                 for t in db.session.scalars(select(Task))}
        attachments = {a.id: a.case_id for a in db.session.scalars(select(Attachment))}
        communes = {u.code: u.id for u in db.session.scalars(select(OrgUnit))}
        db.session.remove()
    # Who guesses, and the cases each may read (everything else must look missing).
    guessers = {"canbo": {x01}, "giamsat_t02": {t02_id}, "thanhtra": {x01, x02}, "truonghoc": set()}
    assert scope[x02] == communes["T01-X02"] and scope[t02_id] == communes["T02-X01"]
    missing_case, missing_task, missing_attachment = max(scope) + 1, max(tasks) + 1, max(attachments) + 1
    raws = {who: kit.api_token(app, who) for who in guessers}
    clients = {who: client_for(app, who) for who in guessers}
    for who, client in clients.items():  # first use of the token and the pages' CSRF token, before counting
        client.get("/api/v1/me", headers=kit.bearer(raws[who]))
    csrf_values = {who: token(body(c.get("/account/tokens"))) for who, c in clients.items()}
    audit_before, before = kit.last_audit_id(app), kit.snapshot(app, skip=frozenset({"api_token"}))
    checked = 0
    ANSWERS.clear()
    for who, readable in guessers.items():
        client, auth = clients[who], kit.bearer(raws[who])
        form = {"csrf_token": csrf_values[who]}
        for case_id in [*scope, missing_case]:
            if case_id in readable:
                continue
            web = [f"/cases/{case_id}", f"/cases/{case_id}/dossier.pdf", f"/cases/{case_id}/transfer",
                   f"/cases/{case_id}/reopen", f"/cases/{case_id}/attachments/new", f"/reports/{case_id}"]
            if who.startswith("thanhtra"):
                web.append(f"/inspector/cases/{case_id}")
            if who == "truonghoc":
                web.remove(f"/cases/{case_id}/dossier.pdf")  # refused to partners whatever the id (403)
            for path in web:
                _expect_404(client.get(path), who, path)
                checked += 1
            for path in (f"/cases/{case_id}/transfer", f"/cases/{case_id}/reopen",
                         f"/cases/{case_id}/attachments/new"):
                _expect_404(client.post(path, data={**form, "to_commune": "T01-X01", "reason": "x"}), who, path)
                checked += 1
            api = [f"/api/v1/cases/{case_id}", f"/api/v1/cases/{case_id}/dossier.pdf"]
            if who == "truonghoc":
                api.remove(f"/api/v1/cases/{case_id}/dossier.pdf")  # as on the web (403)
            for path in api:
                assert_error(client.get(path, headers=auth), 404, "not_found")
                checked += 1
        for task_id, (case_id, escalation, assignee) in [*tasks.items(),
                                                         (missing_task, (missing_case, True, None))]:
            if case_id in readable or assignee == who:
                continue
            _expect_404(client.get(f"/tasks/{task_id}"), who, task_id)
            _expect_404(client.post(f"/tasks/{task_id}", data={**form, "_action": "complete"}), who, task_id)
            assert_error(client.get(f"/api/v1/tasks/{task_id}", headers=auth), 404, "not_found")
            assert_error(client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}},
                                     headers={**auth, "If-Match": '"1"'}), 404, "not_found")
            assert_error(client.put(f"/api/v1/tasks/{task_id}/draft", json={"data": {}}, headers=auth), 404,
                         "not_found")
            checked += 5
            if who.startswith("giamsat") and escalation:
                _expect_404(client.post(f"/supervisor/escalations/{task_id}/ack", data={**form, "note": "x"}),
                            who, task_id)
                checked += 1
        for attachment_id, case_id in [*attachments.items(), (missing_attachment, missing_case)]:
            if case_id not in readable:
                _expect_404(client.get(f"/attachments/{attachment_id}"), who, attachment_id)
                checked += 1
    assert checked > 200, checked
    # Out of scope or missing: word for word the same answer on each route.
    assert all(len(pages) == 1 for pages in ANSWERS.values()), [k for k, v in ANSWERS.items() if len(v) > 1]
    assert kit.audit_actions(app, audit_before) == []  # a refused read is never audited
    assert kit.changed(before, kit.snapshot(app, skip=frozenset({"api_token"}))) == []


CASE_NUMBER = re.compile(r"T0\d-X\d\d-\d{4}-\d+")
ANSWERS: dict[tuple[str, str], set[str]] = {}  # (who, route) → the refusal pages seen, numbers blanked


def _expect_404(response, who: str, what: Any) -> None:
    """Refused like a missing id: 404, nothing of the case on the page, and the very page a missing id gets."""
    assert response.status_code == 404, (who, what, response.status_code)
    page = body(response)
    assert "Nguyễn Văn An" not in page and not CASE_NUMBER.search(page), (who, what)
    route = re.sub(r"\d+", "N", f"{response.request.method} {response.request.path}")
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)  # signed with the time: differs each second
    page = re.sub(r"<code>[0-9a-f]{8,}</code>", "", page)  # the request id ("Mã lỗi"): differs each request
    ANSWERS.setdefault((who, route), set()).add(re.sub(r"\d+", "N", page))


def test_a_revoked_token_is_refused_on_every_api_route(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    raw = kit.api_token(app, "canbo")
    client = app.test_client()
    assert client.get(f"/api/v1/cases/{case_id}", headers=kit.bearer(raw)).status_code == 200
    officer = client_for(app, "canbo")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == raw[:12]))
        db.session.remove()
    assert officer.post(f"/account/tokens/{token_id}/revoke",
                        data={"csrf_token": token(body(officer.get("/account/tokens")))}).status_code == 302
    before = kit.snapshot(app)
    auth = kit.bearer(raw)
    report = {"commune": "T01-X01", "report": demo.sample("mau_01", clock.now())}
    calls = [("get", "/api/v1/me", None), ("get", "/api/v1/tasks", None), ("get", f"/api/v1/tasks/{task_id}", None),
             ("post", f"/api/v1/tasks/{task_id}/complete", {"data": demo.sample("verification", clock.now())}),
             ("put", f"/api/v1/tasks/{task_id}/draft", {"data": {"findings": "x"}}),
             ("get", f"/api/v1/cases/{case_id}", None), ("get", f"/api/v1/cases/{case_id}/dossier.pdf", None),
             ("get", "/api/v1/overdue", None), ("get", "/api/v1/stranded", None), ("get", "/api/v1/statistics", None),
             ("post", "/api/v1/reports", report), ("get", f"/api/v1/cases/{case_id}/assignees", None),
             ("get", f"/api/v1/cases/{case_id}/providers", None),
             ("post", f"/api/v1/tasks/{task_id}/reassign", {"assignee": "yte", "reason": "Lý do."}),
             ("post", f"/api/v1/cases/{case_id}/releases", {"task_id": task_id, "field": "findings"}),
             ("delete", f"/api/v1/cases/{case_id}/releases?task_id={task_id}&field=findings", None),
             ("post", f"/api/v1/cases/{case_id}/separation-requests",
              {"data": demo.sample("separation_request", clock.now())}),
             ("post", f"/api/v1/cases/{case_id}/plan-adjustments", {}),
             ("get", f"/api/v1/tasks/{task_id}/holders", None), ("post", f"/api/v1/tasks/{task_id}/claim", {}),
             ("post", f"/api/v1/tasks/{task_id}/release", {}),
             ("post", f"/api/v1/tasks/{task_id}/assign", {"assignee": "canbo"}),
             ("post", f"/api/v1/tasks/{task_id}/remind", {"note": "Gấp"}),
             ("get", "/api/v1/national-db/pending", None), ("get", f"/api/v1/cases/{case_id}/national-db", None),
             ("get", f"/api/v1/cases/{case_id}/national-db/{task_id}/export", None),
             ("get", "/api/v1/cases", None), ("post", "/api/v1/reports/candidates", report),
             ("post", f"/api/v1/cases/{case_id}/national-db/{task_id}/entry", {"entered_on": "2026-12-01"})]
    # Every operation: each method of each API route (POST and DELETE /releases are one route).
    api_operations = sorted((r.rule, method) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
                            and r.endpoint.startswith("api_") and not r.endpoint.startswith("api_docs")
                            for method in (r.methods or set()) - {"HEAD", "OPTIONS"})
    assert len(api_operations) == len(calls), api_operations
    for method, path, payload in calls:
        headers = {**auth, "If-Match": f'"{case_of(app, case_id).version}"', "Idempotency-Key": "k-1"}
        response = getattr(client, method)(path, json=payload, headers=headers)
        assert_error(response, 401, "unauthorized")
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"], path
    assert kit.changed(before, kit.snapshot(app)) == []


# -- the informant's identity ---------------------------------------------------------------------------------

INFORMANT = {"consent": True, "name": "Lương Thị Người Báo", "phone": "0987654321",
             "address": "Số 9 ngõ Bí Mật, phường Phan Đình Phùng", "notes": "Gọi Tổng đài 111."}
SECRETS = (INFORMANT["name"], INFORMANT["phone"], "ngõ Bí Mật")


def _pdf_pages(response):
    assert response.status_code == 200 and response.mimetype == "application/pdf", response.status_code
    for page in pypdf.PdfReader(io.BytesIO(response.data)).pages:
        yield " ".join(page.extract_text().split())


def _pdf_shows_all(response, wanted: tuple[str, ...]) -> bool:
    """Read pages until every string was seen (the forms come early in the dossier)."""
    missing, text = set(wanted), ""
    for page in _pdf_pages(response):
        text += " " + page
        missing = {w for w in missing if w not in text}
        if not missing:
            return True
    return False


def test_the_informant_is_seen_only_by_those_who_handle_or_inspect_the_report(app):
    # Received 200 hours ago and at its risk assessment: late, on the supervisor's lists. A second case with the
    # same informant has reached the plan's activities, for the partner.
    case_id = open_case(app, stop_at="initial_assessment", hours_ago=200, informant=INFORMANT)
    planned = open_case(app, stop_at="carry_out_activity", informant=INFORMANT)
    with app.app_context():
        rows = db.session.scalars(select(Task).where(Task.case_id == case_id).order_by(Task.id)).all()
        task_ids = [t.id for t in rows if t.escalates_task_id is None]
        mine = db.session.scalar(select(Task.id).where(Task.case_id == planned, Task.assignee == "truonghoc",
                                                       Task.state == "ready"))
        db.session.remove()
    assert len(task_ids) >= 3 and mine
    # Those who handle or inspect the report see who made it: on the case page, in the API and in the PDF.
    for username, dossier in (("canbo", "web"), ("chutich", "api"), ("thanhtra", "web")):
        client, auth = client_for(app, username), kit.bearer(kit.api_token(app, username))
        pages = {"case page": client.get(f"/cases/{case_id}"), "API case": client.get(f"/api/v1/cases/{case_id}",
                                                                                      headers=auth)}
        if username == "thanhtra":
            pages["inspection"] = client.get(f"/inspector/cases/{case_id}")
        for what, response in pages.items():
            for secret in SECRETS:
                assert secret in _unescape(body(response)), (username, what, secret)
        pdf = client.get(f"/cases/{case_id}/dossier.pdf") if dossier == "web" else \
            client.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=auth)
        assert _pdf_shows_all(pdf, SECRETS), (username, dossier)
    # The supervisor and the partner never do: not on any page, answer or file they get.
    supervisor, auth = client_for(app, "giamsat"), kit.bearer(kit.api_token(app, "giamsat"))
    hidden = {"case page": body(supervisor.get(f"/cases/{case_id}")),
              "API case": body(supervisor.get(f"/api/v1/cases/{case_id}", headers=auth)),
              "dashboard": body(supervisor.get("/supervisor?window=168")),
              "overdue CSV": body(supervisor.get("/supervisor/overdue.csv?window=168")),
              "API overdue": body(supervisor.get("/api/v1/overdue", headers=auth)),
              "dossier": " ".join(_pdf_pages(supervisor.get(f"/cases/{case_id}/dossier.pdf")))}
    # The API's dossier is the same builder for the same person: that it answers is enough here.
    assert supervisor.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=auth).mimetype == "application/pdf"
    for task_id in task_ids:
        hidden[f"step {task_id}"] = body(supervisor.get(f"/tasks/{task_id}"))
        hidden[f"API step {task_id}"] = body(supervisor.get(f"/api/v1/tasks/{task_id}", headers=auth))
    partner, partner_auth = client_for(app, "truonghoc"), kit.bearer(kit.api_token(app, "truonghoc"))
    hidden |= {"partner inbox": body(partner.get("/")), "partner step": body(partner.get(f"/tasks/{mine}")),
               "partner API tasks": body(partner.get("/api/v1/tasks", headers=partner_auth)),
               "partner API step": body(partner.get(f"/api/v1/tasks/{mine}", headers=partner_auth))}
    assert partner.get(f"/cases/{planned}/dossier.pdf").status_code == 403
    assert_error(partner.get(f"/api/v1/cases/{planned}/dossier.pdf", headers=partner_auth), 403, "forbidden")
    assert partner.get(f"/cases/{planned}").status_code == 404
    for what, text in hidden.items():
        for secret in SECRETS:
            assert secret not in _unescape(text), (what, secret)
    # The supervisor still reads the case itself: only the informant is withheld, and says so.
    assert "Nguyễn Văn An" in _unescape(hidden["case page"]) and "đã ẩn" in hidden["dossier"]
    assert json.loads(hidden["API case"])["informant_visible"] is False


def _unescape(text: str) -> str:
    if text.lstrip().startswith(("{", "[")):
        return json.dumps(json.loads(text), ensure_ascii=False)
    return " ".join(html.unescape(text).split())
