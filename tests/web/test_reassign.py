"""Plan activities on the pages: picked from the accounts in scope, refused when not, and "Giao lại" from the
case page and the step page, by the commune's officer or chairman only — on both databases."""

from __future__ import annotations

import html
import re

from sqlalchemy import select, update

from engine import clock
from engine.models import Case, Task, User
from tests.web.casework_kit import (
    audits,
    case_of,
    client_for,
    flatten,
    open_case,
    post_form,
    ready_task,
    task_of,
    token,
    version_on,
)
from web import demo
from web.extensions import db

FREE_TEXT = "Trạm Y tế phường"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def activities(app, case_id: int) -> dict[str, int]:
    with app.app_context():
        rows = db.session.scalars(select(Task).where(Task.case_id == case_id, Task.step == "carry_out_activity",
                                                     Task.state == "ready")).all()
        found = {t.assignee: t.id for t in rows}
        db.session.remove()
        return found


def inbox_has(client, task_id: int) -> bool:
    return f'href="/tasks/{task_id}"' in client.get("/").get_data(as_text=True)


def test_plan_form_refuses_a_typed_assignee_next_to_its_field_and_saves_nothing(app):
    case_id = open_case(app, stop_at="draft_plan")
    task_id = ready_task(app, case_id, "draft_plan")
    officer = client_for(app, "canbo")
    path = f"/tasks/{task_id}"
    page = officer.get(path).get_data(as_text=True)
    # A pick list of the accounts in scope (the province's centre included), labelled with their unit.
    assert '<select id="f-activities-0-assignee" name="activities.0.assignee"' in page
    select_ = page.split('name="activities.0.assignee"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)"', select_)
    assert options == ["", "yte", "ctxh", "truonghoc"]
    assert "Trung tâm Công tác xã hội tỉnh (demo) — Tỉnh Thái Nguyên (demo)" in html.unescape(page)
    data = demo.sample("mau_04", clock.now())
    data["activities"][1]["assignee"] = FREE_TEXT  # a crafted post: the name instead of the username
    del data["activities"][0]["assignee_name"], data["activities"][1]["assignee_name"]
    response = officer.post(path, data={**flatten(data), "csrf_token": token(page), "_action": "complete",
                                        "_version": version_on(page)})
    assert response.status_code == 422
    body = text(response)
    assert re.search(r'id="f-activities-1-assignee-err"><p>Không có tài khoản nào với tên này được giao việc ở '
                     r"xã/phường hoặc tỉnh của hồ sơ; hãy chọn trong danh sách.</p>", body)
    row = "Các dịch vụ, công việc cần thực hiện › Dòng 2 › Người, cơ quan thực hiện (tài khoản)"
    assert row in body  # in the summary too
    assert f'<option value="{FREE_TEXT}" selected>{FREE_TEXT} (không có trong danh sách)</option>' in body
    assert '<option value="truonghoc" selected>' in body and "Tư vấn tâm lý hằng tuần" in body  # input kept
    task = task_of(app, task_id)
    assert (task.state, task.draft_data) == ("ready", None)
    assert [e for e in audits(app, "task_completed", case_id) if e.details["step"] == "draft_plan"] == []
    assert activities(app, case_id) == {}


def test_plan_in_english_refuses_in_english(app):
    case_id = open_case(app, stop_at="draft_plan")
    task_id = ready_task(app, case_id, "draft_plan")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "canbo").values(locale="en"))
        db.session.commit()
        db.session.remove()
    officer = client_for(app, "canbo")
    data = demo.sample("mau_04", clock.now())
    data["activities"][0]["assignee"] = "nobody"
    response = post_form(officer, f"/tasks/{task_id}", data, _action="complete",
                         _version=str(case_of(app, case_id).version))
    assert response.status_code == 422
    assert re.search(r'id="f-activities-0-assignee-err"><p>No account with this username can be assigned work in '
                     r"the case's commune or province; choose one from the list.</p>", text(response))


def test_valid_plan_names_the_real_accounts(app):
    case_id = open_case(app, stop_at="draft_plan")
    task_id = ready_task(app, case_id, "draft_plan")
    officer = client_for(app, "canbo")
    data = demo.sample("mau_04", clock.now())
    data["activities"][1]["assignee"] = "ctxh"
    data["activities"][1]["assignee_name"] = "Tên gõ tay"  # not an input of the page: ignored
    response = post_form(officer, f"/tasks/{task_id}", data, _action="complete",
                         _version=str(case_of(app, case_id).version))
    assert response.status_code == 302
    stored = task_of(app, task_id).form_data["activities"]
    assert [a["assignee_name"] for a in stored] == ["Trường THCS Phan Đình Phùng",
                                                    "Trung tâm Công tác xã hội tỉnh (demo)"]


def test_officer_reassigns_from_the_case_page_and_the_step_moves_inboxes(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    health = activities(app, case_id)["yte"]
    officer = client_for(app, "canbo")
    yte, school = client_for(app, "yte"), client_for(app, "truonghoc")
    assert inbox_has(yte, health) and not inbox_has(school, health)
    page = text(officer.get(f"/cases/{case_id}"))
    assert "Giao lại hoạt động" in page and page.count('action="/tasks/') == 2  # one form per open activity
    form = f'action="/tasks/{health}/reassign"'
    assert form in page
    response = officer.post(f"/tasks/{health}/reassign", data={
        "csrf_token": token(page), "_version": version_on(page), "_next": "case", "assignee": "truonghoc",
        "reason": "Trạm y tế quá tải."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_id}")
    shown = text(officer.get(f"/cases/{case_id}"))
    assert ("Đã giao lại bước “Thực hiện hoạt động trong kế hoạch” của hồ sơ "
            f"{case_of(app, case_id).number} cho Trường THCS Phan Đình Phùng (tài khoản truonghoc).") in shown
    assert "Giao lại bước" in shown  # the audit trail names the action
    assert task_of(app, health).assignee == "truonghoc"
    assert not inbox_has(yte, health) and inbox_has(school, health)
    assert yte.get(f"/tasks/{health}").status_code == 404
    # The new assignee sees the activity they were given, not the one the plan gave them.
    mine = text(school.get(f"/tasks/{health}"))
    assert "Khám sức khoẻ định kỳ" in mine and "Tư vấn tâm lý hằng tuần" not in mine
    assert [(e.actor, e.details["from"], e.details["to"], e.details["reason"])
            for e in audits(app, "task_reassigned", case_id)] == [("canbo", "yte", "truonghoc", "Trạm y tế quá tải.")]


def test_chairman_reassigns_from_the_step_page(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    school = activities(app, case_id)["truonghoc"]
    chairman = client_for(app, "chutich")
    page = text(chairman.get(f"/tasks/{school}"))
    assert "Giao lại hoạt động" in page and "Đang giao cho: Trường THCS Phan Đình Phùng" in page
    options = re.findall(r'<option value="([^"]*)"', page.split(f'id="ra-{school}-assignee"')[1].split("</select>")[0])
    assert options == ["", "yte", "ctxh"]  # the current assignee is not offered
    response = chairman.post(f"/tasks/{school}/reassign", data={
        "csrf_token": token(page), "_version": version_on(page), "_next": "task", "assignee": "ctxh",
        "reason": "Nhà trường nghỉ hè."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{school}")
    assert "cho Trung tâm Công tác xã hội tỉnh (demo) (tài khoản ctxh)" in text(chairman.get(f"/tasks/{school}"))
    assert task_of(app, school).assignee == "ctxh"


def test_bad_reassignment_comes_back_with_field_messages_and_nothing_saved(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    health = activities(app, case_id)["yte"]
    officer = client_for(app, "canbo")
    path = f"/tasks/{health}/reassign"
    page = officer.get(path)
    assert page.status_code == 200
    form = page.get_data(as_text=True)
    version = version_on(form)
    for assignee, reason, field, message in [
            (FREE_TEXT, "Lý do gõ vào", "assignee", "Không có tài khoản nào với tên này được giao việc"),
            ("canbo", "Lý do gõ vào", "assignee", "Không có tài khoản nào với tên này được giao việc"),
            ("yte", "Lý do gõ vào", "assignee", "Bước này đang giao cho tài khoản này"),
            ("truonghoc", "", "reason", "Trường này là bắt buộc.")]:
        response = officer.post(path, data={"csrf_token": token(form), "_version": version, "assignee": assignee,
                                            "reason": reason})
        assert response.status_code == 422, assignee
        body = text(response)
        assert re.search(rf'id="ra-{health}-{field}-err"><p>{message}', body), assignee
        assert f'href="#ra-{health}-{field}"' in body  # the summary at the top leads to the field
        assert (reason or "") in body and f'value="{assignee}" selected' in body  # input kept
    stale = officer.post(path, data={"csrf_token": token(form), "_version": "0", "assignee": "truonghoc",
                                     "reason": "Lý do."})
    assert stale.status_code == 409 and "Hồ sơ đã thay đổi" in text(stale)
    assert task_of(app, health).assignee == "yte" and case_of(app, case_id).version == int(version)
    assert audits(app, "task_reassigned", case_id) == []


def test_who_may_reassign(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    found = activities(app, case_id)
    verify_case = open_case(app)
    verify = ready_task(app, verify_case, "verify")
    for username, task_id, status in [("truonghoc", found["truonghoc"], 403), ("truonghoc", found["yte"], 404),
                                      ("giamsat", found["yte"], 403), ("thanhtra", found["yte"], 403),
                                      ("canbo2", found["yte"], 404), ("chutich2", found["yte"], 404),
                                      ("quantri", found["yte"], 404), ("canbo", verify, 409)]:
        client = client_for(app, username)
        assert client.get(f"/tasks/{task_id}/reassign").status_code == status, username
        csrf = token(client.get("/", follow_redirects=True).get_data(as_text=True))
        posted = client.post(f"/tasks/{task_id}/reassign", data={
            "csrf_token": csrf, "_version": str(case_of(app, case_id).version), "assignee": "ctxh", "reason": "x"})
        assert posted.status_code == status, username
    # Readers who may not reassign see no form; the case's own officer does.
    for username in ("giamsat", "thanhtra"):
        assert "Giao lại hoạt động" not in text(client_for(app, username).get(f"/cases/{case_id}")), username
    assert "Giao lại hoạt động" not in text(client_for(app, "truonghoc").get(f"/tasks/{found['truonghoc']}"))
    assert audits(app, "task_reassigned") == []
    assert {task_of(app, t).assignee for t in found.values()} == {"truonghoc", "yte"}


def test_deactivated_assignees_step_is_offered_for_reassignment_and_the_case_reaches_review(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    found = activities(app, case_id)
    admin = client_for(app, "quantri")
    with app.app_context():
        yte_id = db.session.scalar(select(User.id).where(User.username == "yte"))
        unit = db.session.scalar(select(User.org_unit_id).where(User.id == yte_id))
        db.session.remove()
    edit = admin.get(f"/admin/users/{yte_id}").get_data(as_text=True)
    assert admin.post(f"/admin/users/{yte_id}", data={
        "csrf_token": token(edit), "full_name": "Trạm Y tế phường", "role": "partner", "unit": str(unit),
        "email": "", "locale": "vi"}).status_code == 303  # no "active": deactivated
    officer = client_for(app, "canbo")
    page = text(officer.get(f"/cases/{case_id}"))
    assert re.search(r"Đang giao cho: Trạm Y tế phường <span class=\"late\">\(tài khoản đã ngừng hoạt động: hãy giao "
                     r"lại\)</span>", page)
    assert '<option value="yte"' not in page  # nor offered to anything
    response = officer.post(f"/tasks/{found['yte']}/reassign", data={
        "csrf_token": token(page), "_version": version_on(page), "_next": "case", "assignee": "ctxh",
        "reason": "Tài khoản trạm y tế đã ngừng hoạt động."})
    assert response.status_code == 302
    for username in ("ctxh", "truonghoc"):
        partner = client_for(app, username)
        task_id = found["yte"] if username == "ctxh" else found["truonghoc"]
        assert inbox_has(partner, task_id)
        done = post_form(partner, f"/tasks/{task_id}", demo.sample("activity_report", clock.now()),
                         _action="complete", _version=str(case_of(app, case_id).version))
        assert done.status_code == 302, username
    assert ready_task(app, case_id, "review")
    with app.app_context():
        assert db.session.get(Case, case_id).status == "open"
        db.session.remove()


def test_reassign_in_english(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    school = activities(app, case_id)["truonghoc"]
    with app.app_context():
        db.session.execute(update(User).where(User.username == "chutich").values(locale="en"))
        db.session.commit()
        db.session.remove()
    chairman = client_for(app, "chutich")
    page = text(chairman.get(f"/cases/{case_id}"))
    card = page[page.index('id="reassign"'):page.index("</section>", page.index('id="reassign"'))]
    for english in ("Reassign activities", "Assigned to: Trường THCS Phan Đình Phùng", "Reason for reassigning",
                    "Reassign</button>", "The commune officer or chairman gives an open activity"):
        assert english in card, english
    bad = chairman.post(f"/tasks/{school}/reassign", data={"csrf_token": token(page), "_version": version_on(page),
                                                          "assignee": "nobody", "reason": "Closed for summer."})
    assert bad.status_code == 422 and "Reassign: Carry out a plan activity" in text(bad)
    assert "No account with this username can be assigned work" in text(bad)
    done = chairman.post(f"/tasks/{school}/reassign", data={"csrf_token": token(page), "_version": version_on(page),
                                                           "_next": "case", "assignee": "ctxh",
                                                           "reason": "Closed for summer."})
    assert done.status_code == 302
    assert ("Reassigned the step “Carry out a plan activity” of case "
            f"{case_of(app, case_id).number} to Trung tâm Công tác xã hội tỉnh (demo) (account ctxh).") in \
        text(chairman.get(f"/cases/{case_id}"))


def test_moving_one_of_a_partners_activities_leaves_the_other_in_place(app):
    at = clock.now()
    same = {"level": "support", "assignee": "truonghoc", "responsible_body": "UBND phường", "cost": 0,
            "start": demo._day(at), "end": demo._day(at, 20)}
    plan = {"activities": [{**same, "measure": "Hoạt động thứ nhất"}, {**same, "measure": "Hoạt động thứ hai"}]}
    case_id = open_case(app, stop_at="carry_out_activity", choices={"mau_04": plan})
    with app.app_context():
        first, second = db.session.scalars(select(Task.id).where(Task.case_id == case_id,
                                                                 Task.step == "carry_out_activity").order_by(Task.id))
        db.session.remove()
    officer = client_for(app, "canbo")
    page = text(officer.get(f"/cases/{case_id}"))
    assert officer.post(f"/tasks/{first}/reassign", data={
        "csrf_token": token(page), "_version": version_on(page), "assignee": "yte", "reason": "Chia việc."}
    ).status_code == 302
    shown = {username: text(client_for(app, username).get(f"/tasks/{task_id}"))
             for username, task_id in (("yte", first), ("truonghoc", second))}
    assert "Hoạt động thứ nhất" in shown["yte"] and "Hoạt động thứ hai" not in shown["yte"]
    assert "Hoạt động thứ hai" in shown["truonghoc"] and "Hoạt động thứ nhất" not in shown["truonghoc"]
