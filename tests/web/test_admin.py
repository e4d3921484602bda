"""Administration: users, units, process versions, the working-day calendar — validated, audited, admin only."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from engine import audit, clock
from engine.calendar import WorkingCalendar
from engine.models import AuditEntry, CalendarDay, OrgUnit, User
from web import demo
from web.extensions import db


def _token(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _admin(app, login):
    client = app.test_client()
    login(client, "quantri")
    return client


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return rows


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _unit_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def test_users_create_edit_reset_unlock(app, login):
    client = _admin(app, login)
    assert client.get("/admin").status_code == 200
    listing = client.get("/admin/users").get_data(as_text=True)
    assert all(username in listing for username, *_ in demo.USERS)
    token = _token(client, "/admin/users/new")
    x01, t01 = _unit_id(app, "T01-X01"), _unit_id(app, "T01")
    good = {"csrf_token": token, "username": "canbo3", "full_name": "Ngô Thị Cán Bộ Ba", "role": "officer",
            "unit": str(x01), "email": "canbo3@example.vn", "locale": "vi", "password": "mat-khau-dai"}
    users_before = _count(app, User)
    for change, field, message in (
        ({"username": "Cán bộ"}, "username", "Tên đăng nhập 3–80 ký tự"),
        ({"username": "CANBO"}, "username", "Tên đăng nhập này đã có người dùng."),
        ({"full_name": " "}, "full_name", "Họ tên là bắt buộc."),
        ({"role": "root"}, "role", "Vai trò không hợp lệ."),
        ({"unit": str(t01)}, "unit", "Vai trò này phải thuộc một xã/phường"),  # an officer scoped to a province
        ({"unit": ""}, "unit", "Vai trò này phải thuộc một xã/phường"),  # … or to the whole country
        ({"unit": "999999"}, "unit", "Đơn vị không tồn tại."),
        ({"role": "supervisor"}, "unit", "Vai trò này thuộc một tỉnh"),
        ({"role": "admin"}, "unit", "Quản trị viên không thuộc đơn vị nào."),
        ({"email": "not-an-address"}, "email", "Địa chỉ e-mail không hợp lệ."),
        ({"locale": "fr"}, "locale", "Ngôn ngữ không hợp lệ."),
        ({"password": "ngan"}, "password", "Mật khẩu phải có ít nhất 8 ký tự."),
    ):
        response = client.post("/admin/users/new", data={**good, **change})
        assert response.status_code == 422, change
        body = response.get_data(as_text=True)
        assert message in body and f'id="err-{field}"' in body, change
        assert "Ngô Thị Cán Bộ Ba" in body or change.get("full_name")  # the input is kept
    assert _count(app, User) == users_before and not _audit(app, "user_created")
    # Without a CSRF token nothing is saved.
    assert client.post("/admin/users/new", data={**good, "csrf_token": ""}).status_code == 400
    assert _count(app, User) == users_before

    response = client.post("/admin/users/new", data=good)
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "canbo3"))
        user_id = user.id
        assert user.role == "officer" and user.org_unit_id == x01 and user.email == "canbo3@example.vn"
        assert user.password_hash != "mat-khau-dai" and check_password_hash(user.password_hash, "mat-khau-dai")
    created = _audit(app, "user_created")
    assert [(a.actor, a.details) for a in created] == [
        ("quantri", {"username": "canbo3", "role": "officer", "unit": "T01-X01"})]
    assert "mat-khau-dai" not in str(created[0].details)
    newcomer = app.test_client()
    assert login(newcomer, "canbo3", "mat-khau-dai").status_code == 302

    # Edit: role and unit; a change is audited with old and new values.
    edit = {"csrf_token": token, "full_name": "Ngô Thị Chủ Tịch", "role": "chairman", "unit": str(x01),
            "email": "", "locale": "en", "active": "1"}
    assert client.post(f"/admin/users/{user_id}", data={**edit, "unit": str(t01)}).status_code == 422
    assert client.post(f"/admin/users/{user_id}", data=edit).status_code == 303
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.role, user.full_name, user.email, user.locale) == ("chairman", "Ngô Thị Chủ Tịch", None, "en")
    changes = _audit(app, "user_updated")[-1].details["changes"]
    assert changes["role"] == ["officer", "chairman"] and changes["email"] == ["canbo3@example.vn", None]
    # Deactivated: can no longer sign in.
    assert client.post(f"/admin/users/{user_id}", data={**edit, "active": ""}).status_code == 303
    assert login(app.test_client(), "canbo3", "mat-khau-dai").status_code == 401
    assert client.post(f"/admin/users/{user_id}", data=edit).status_code == 303  # active again

    # Reset password: checked, confirmed, hashed, audited; the lock is lifted with it.
    for data, field in (({"new_password": "ngan", "confirm_password": "ngan"}, "new_password"),
                        ({"new_password": "mat-khau-moi-1", "confirm_password": "khac"}, "confirm_password")):
        response = client.post(f"/admin/users/{user_id}/password", data={"csrf_token": token, **data})
        assert response.status_code == 422 and f'id="err-{field}"' in response.get_data(as_text=True)
    assert newcomer.get("/").status_code == 200  # the session opened before the reset …
    response = client.post(f"/admin/users/{user_id}/password", data={
        "csrf_token": token, "new_password": "mat-khau-moi-1", "confirm_password": "mat-khau-moi-1"})
    assert response.status_code == 303
    assert newcomer.get("/").status_code == 302  # … ends with it (server-side sessions, issue 18)
    assert login(app.test_client(), "canbo3", "mat-khau-dai").status_code == 401
    assert login(app.test_client(), "canbo3", "mat-khau-moi-1").status_code == 302
    assert [a.details for a in _audit(app, "password_reset")] == [{"username": "canbo3", "sessions_ended": 1}]

    # Unlock after repeated failures.
    with app.app_context():
        user = db.session.get(User, user_id)
        user.locked_until, user.failed_logins = clock.now() + timedelta(minutes=10), 3
        db.session.commit()
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Tài khoản tạm khoá đến" in page
    assert client.post(f"/admin/users/{user_id}/unlock", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.locked_until is None and user.failed_logins == 0
    assert [a.actor for a in _audit(app, "user_unlocked")] == ["quantri"]

    # An administrator cannot demote or disable themselves (and lock everyone out).
    with app.app_context():
        me = db.session.scalar(select(User).where(User.username == "quantri"))
        me_id = me.id
    mine = {"csrf_token": token, "full_name": "Quản Trị", "role": "admin", "unit": "", "email": "", "locale": "vi"}
    response = client.post(f"/admin/users/{me_id}", data=mine)  # no "active": disabling
    assert response.status_code == 422 and "chính mình" in response.get_data(as_text=True)
    assert client.post(f"/admin/users/{me_id}", data={**mine, "active": "1", "role": "officer",
                                                      "unit": str(x01)}).status_code == 422
    with app.app_context():
        assert db.session.get(User, me_id).role == "admin" and db.session.get(User, me_id).active
    assert client.get("/admin/users/999999").status_code == 404
    with app.app_context():
        assert audit.verify(db.session) == []


def test_units_and_process_versions(app, login, case_engine):
    client = _admin(app, login)
    token = _token(client, "/admin/units")
    page = client.get("/admin/units").get_data(as_text=True)
    assert "T01-X01" in page and "Xã Đại Từ (demo)" in page
    t01 = _unit_id(app, "T01")
    before = _count(app, OrgUnit)
    for data, field in (
        ({"kind": "province", "code": "t 02", "name": "Tỉnh Hai"}, "code"),
        ({"kind": "province", "code": "T01", "name": "Trùng mã"}, "code"),
        ({"kind": "province", "code": "T02", "name": ""}, "name"),
        ({"kind": "district", "code": "T02", "name": "Huyện"}, "kind"),  # no districts since 1/7/2025
        ({"kind": "commune", "code": "T01-X03", "name": "Xã Ba", "parent": ""}, "parent"),
        ({"kind": "commune", "code": "T01-X03", "name": "Xã Ba", "parent": str(_unit_id(app, "T01-X01"))},
         "parent"),
    ):
        response = client.post("/admin/units", data={"csrf_token": token, **data})
        assert response.status_code == 422, data
        assert f'id="err-{field}"' in response.get_data(as_text=True), data
    assert _count(app, OrgUnit) == before
    assert client.post("/admin/units", data={"csrf_token": token, "kind": "province", "code": "t02",
                                             "name": "Tỉnh Hai"}).status_code == 303
    t02 = _unit_id(app, "T02")
    assert client.post("/admin/units", data={"csrf_token": token, "kind": "commune", "code": "T02-X01",
                                             "name": "Xã Một", "parent": str(t02)}).status_code == 303
    with app.app_context():
        commune = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T02-X01"))
        assert commune.parent_id == t02 and commune.kind == "commune"
        commune_id = commune.id
    # Rename.
    response = client.post(f"/admin/units/{commune_id}/rename", data={"csrf_token": token, "name": ""})
    assert response.status_code == 422 and "Tên đơn vị là bắt buộc." in response.get_data(as_text=True)
    assert client.post(f"/admin/units/{commune_id}/rename",
                       data={"csrf_token": token, "name": "Xã Một Mới"}).status_code == 303
    assert client.post("/admin/units/999999/rename", data={"csrf_token": token, "name": "x"}).status_code == 404
    assert [a.details for a in _audit(app, "unit_created")] == [
        {"code": "T02", "name": "Tỉnh Hai", "kind": "province", "parent": None},
        {"code": "T02-X01", "name": "Xã Một", "kind": "commune", "parent": "T02"}]
    assert _audit(app, "unit_renamed")[0].details == {"code": "T02-X01", "old": "Xã Một", "new": "Xã Một Mới"}
    assert "Xã Một Mới" in client.get("/admin/units").get_data(as_text=True)
    assert t01 is not None

    # Process versions in use, with the number of cases on each.
    page = client.get("/admin/processes").get_data(as_text=True)
    assert case_engine.registry.current.content_hash in page
    with app.app_context():
        people = demo.cast(db.session)
        for _ in range(2):
            case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
    page = client.get("/admin/processes").get_data(as_text=True)
    row = page.split(f'title="{case_engine.registry.current.content_hash}"')[1].split("</tr>")[0]
    assert "hiện tại" in row and re.findall(r'data-label="(?:Số lượng hồ sơ|Đang xử lý)">(\d+)<', row) == ["2", "2"]


def test_calendar_extra_days(app, login, case_engine):
    client = _admin(app, login)
    try:
        page = client.get("/admin/calendar").get_data(as_text=True)
        assert "Ngày Văn hóa Việt Nam" in page and "holidays 0.109" in page
        today = clock.local(clock.now()).date()
        assert "— Tết Dương lịch" in page or today.month not in (11, 12)  # holiday names in Vietnamese
        listed = re.findall(r"<li>(\d{2}/\d{2}/\d{4}): ", page.split('class="calendar-days"')[1])
        assert len(listed) == 60 and listed[0] == today.strftime("%d/%m/%Y")
        token = _token(client, "/admin/calendar")
        culture = date(2026, 11, 24)
        # Listed by `holidays` 0.109 but not enacted: a working day until the act is recorded.
        assert case_engine.calendar.is_working_day(culture) and "chưa có văn bản quy định" in page
        for data, field, message in (
            ({"day": "31/02/2026", "working": "off", "note": "x"}, "day", "Ngày không hợp lệ (dd/mm/yyyy)."),
            ({"day": "2026-11-24", "working": "off", "note": "x"}, "day", "Ngày không hợp lệ"),
            ({"day": "24/11/2026", "working": "maybe", "note": "x"}, "working", "Hãy chọn ngày nghỉ"),
            ({"day": "24/11/2026", "working": "working", "note": ""}, "note", "Ghi chú (căn cứ, văn bản thông báo)"),
            ({"day": "24/11/2026", "working": "off", "note": "Ngày Văn hóa"}, "act", "hãy ghi số hiệu văn bản"),
            ({"day": "24/11/2026", "working": "off", "note": "x", "act": "luật mới"}, "act", "hãy ghi số hiệu"),
            ({"day": "07/01/2031", "working": "off", "note": "x", "act": "abc"}, "act", "Số hiệu văn bản không"),
        ):
            response = client.post("/admin/calendar", data={"csrf_token": token, **data})
            assert response.status_code == 422 and message in response.get_data(as_text=True), data
            assert f'id="err-{field}"' in response.get_data(as_text=True)
        assert _count(app, CalendarDay) == 0
        # Record the act that makes 24/11/2026 a holiday: the engine's calendar follows at once.
        response = client.post("/admin/calendar", data={"csrf_token": token, "day": "24/11/2026", "working": "off",
                                                        "note": "Ngày Văn hóa Việt Nam", "act": "12/2026/QH15"})
        assert response.status_code == 303
        assert not case_engine.calendar.is_working_day(culture)
        anchor = datetime(2026, 11, 23, 9, 0, tzinfo=clock.LOCAL_TZ)
        assert clock.local(case_engine.calendar.add_working_days(anchor, 1)).date() == date(2026, 11, 25)
        # And an extra day off in the far future.
        assert client.post("/admin/calendar", data={"csrf_token": token, "day": "07/01/2031", "working": "off",
                                                    "note": "Nghỉ bù (thử)"}).status_code == 303
        assert not case_engine.calendar.is_working_day(date(2031, 1, 7))
        response = client.post("/admin/calendar", data={"csrf_token": token, "day": "24/11/2026",
                                                        "working": "off", "note": "lần hai"})
        assert response.status_code == 422 and "đã có trong danh sách" in response.get_data(as_text=True)
        page = client.get("/admin/calendar").get_data(as_text=True)
        assert "theo văn bản số 12/2026/QH15" in page and "07/01/2031" in page and "quantri" in page
        with app.app_context():
            rows = {r.day: (r.working, r.created_by, r.act) for r in db.session.scalars(select(CalendarDay))}
        assert rows == {culture: (False, "quantri", "12/2026/QH15"), date(2031, 1, 7): (False, "quantri", None)}
        assert _audit(app, "calendar_day_added")[0].details["act"] == "12/2026/QH15"
        # Delete: back to a working day (the act is no longer recorded).
        assert client.post("/admin/calendar/2026-11-24/delete", data={"csrf_token": token}).status_code == 303
        assert case_engine.calendar.is_working_day(culture)
        assert client.post("/admin/calendar/2026-11-24/delete", data={"csrf_token": token}).status_code == 404
        assert client.post("/admin/calendar/not-a-day/delete", data={"csrf_token": token}).status_code == 404
        assert [a.details["day"] for a in _audit(app, "calendar_day_added")] == ["2026-11-24", "2031-01-07"]
        assert [(a.actor, a.details["day"]) for a in _audit(app, "calendar_day_deleted")] == [("quantri", "2026-11-24")]
    finally:
        # The engine is shared by the whole test session: leave its calendar as the data file has it.
        case_engine.calendar = WorkingCalendar.from_file(office_close=case_engine.rules.office_close)


def test_other_roles_are_refused(app, login):
    paths = ("/admin", "/admin/users", "/admin/users/new", "/admin/users/1", "/admin/units", "/admin/processes",
             "/admin/calendar")
    anonymous = app.test_client()
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for username in ("tiepnhan", "canbo", "chutich", "truonghoc", "giamsat", "thanhtra"):
        client = app.test_client()
        login(client, username)
        for path in paths:
            assert client.get(path).status_code == 403, (username, path)
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get("/", follow_redirects=True).get_data(as_text=True)).group(1)
        assert client.post("/admin/units", data={"csrf_token": token, "kind": "province", "code": "T09",
                                                 "name": "x"}).status_code in (400, 403)
    assert _count(app, OrgUnit) == 3
