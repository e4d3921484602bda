"""The guided step page: law, deadline, form, drafts, completion, conflicts, permissions, fuzzing."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine import clock
from engine.models import Task
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


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_step_page_shows_law_deadline_form_and_history(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    officer = client_for(app, "canbo")
    response = officer.get(f"/tasks/{task_id}")
    assert response.status_code == 200
    page = text(response)
    # What the law asks, with the article, and the limit with what it is counted from.
    assert "Kiểm tra tính xác thực của thông tin" in page
    assert "Điều 25 khoản 2, Điều 26 khoản 1 NĐ 56/2017/NĐ-CP" in page
    # Verification's 12 hours are case56's policy (f460c66): said so, with the basis; nothing left to confirm.
    assert "12 giờ kể từ khi tiếp nhận thông tin" in page and "[cần xác nhận]" not in page
    assert "không do pháp luật quy định: Quy định của case56, suy ra từ thời hạn 12 giờ tại Điều 26 khoản 3" in page
    due = task_of(app, task_id).due_at
    assert clock.local(due).strftime("%H:%M %d/%m/%Y") in page and "Còn " in page
    # The form from its schema: every field, required ones marked, conditions spelled out.
    for name in ("has_basis", "findings", "sources", "child_unsafe", "preliminary_risk", "reason_no_basis",
                 "verified_at", "verifier_name"):
        assert f'name="{name}"' in page
    assert "Bắt buộc khi “Thông tin có căn cứ” = “Không”." in page
    # Moments are typed dd/mm/yyyy hh:mm whatever the browser's language (no native picker: mm/dd/yyyy in English).
    assert 'placeholder="dd/mm/yyyy hh:mm"' in page and 'type="datetime-local"' not in page
    assert 'value="complete"' in page and 'value="draft"' in page
    assert f'name="_version" value="{case_of(app, case_id).version}"' in page
    # The earlier step (the report, Mẫu 01) in view, informant included for the handling officer.
    assert "Tiếp nhận thông tin (Mẫu số 01)" in page and "Nguyễn Văn An" in page and "Trần Thị Bình" in page
    # Opening the step is a read of the case file: audited.
    assert [e.actor for e in audits(app, "case_step", case_id)] == ["canbo"]
    # A limit the law leaves open (the police referral's "ngay") is marked on its step's page.
    police = ready_task(app, open_case(app, crime_suspected=True), "police_referral")
    page = text(officer.get(f"/tasks/{police}"))
    assert "Điều 25 khoản 3 NĐ 56/2017/NĐ-CP (không quy định số ngày)" in page and "[cần xác nhận]" in page


def test_invalid_input_is_shown_inline_kept_and_nothing_is_saved(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    officer = client_for(app, "canbo")
    before = case_of(app, case_id).version
    typed = {"has_basis": False, "findings": "Đã đến nhà <b>kiểm tra</b>", "verified_at": "31/02/2026 10:00"}
    response = post_form(officer, f"/tasks/{task_id}", typed, _action="complete", _version=str(before))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # Each error sits next to its field, and the summary at the top links to it.
    assert re.search(r'id="f-reason_no_basis-err"><p>Phải ghi lý do khi thông tin không có căn cứ', page)
    assert re.search(r'id="f-verified_at-err"><p>Ngày giờ không hợp lệ', page)
    assert 'href="#f-reason_no_basis"' in page and "Biểu mẫu có 2 lỗi cần sửa" in page
    # What the user typed is kept (escaped), the choice too.
    assert "Đã đến nhà &lt;b&gt;kiểm tra&lt;/b&gt;</textarea>" in page
    assert 'value="31/02/2026 10:00"' in page
    assert re.search(r'name="has_basis" value="false" id="f-has_basis-false" checked', page)
    # Nothing saved: the step is still waiting, the case unchanged, no completion audited.
    assert task_of(app, task_id).state == "ready" and case_of(app, case_id).version == before
    assert not audits(app, "task_completed", case_id)


def test_draft_is_saved_and_restored_without_advancing(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    officer = client_for(app, "canbo")
    version = case_of(app, case_id).version
    # A NUL character is refused for the whole app (web.security), nothing saved.
    refused = post_form(officer, f"/tasks/{task_id}", {"findings": "Đang xác minh\x00 với nhà trường"}, _action="draft")
    assert refused.status_code == 400 and task_of(app, task_id).draft_data is None
    response = post_form(officer, f"/tasks/{task_id}", {"findings": "Đang xác minh với nhà trường",
                                                         "child_unsafe": True}, _action="draft")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}")
    stored = task_of(app, task_id)
    assert stored.state == "ready" and stored.draft_saved_at is not None
    assert stored.draft_data["findings"] == "Đang xác minh với nhà trường"
    assert case_of(app, case_id).version == version  # a draft does not touch the case
    page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Đã lưu nháp" in page and "Đang hiện bản nháp lưu lúc" in page
    assert "Đang xác minh với nhà trường</textarea>" in page
    assert re.search(r'name="child_unsafe" value="true" id="f-child_unsafe-true" checked', page)
    assert [e.actor for e in audits(app, "draft_saved", case_id)] == ["canbo"]


def test_completion_advances_and_says_who_is_next(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    officer = client_for(app, "canbo")
    page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    data = demo.sample("verification", clock.now())
    response = officer.post(f"/tasks/{task_id}", data={**flatten(data), "csrf_token": token(page),
                                                        "_action": "complete", "_version": version_on(page)})
    # The officer does the next step too: the confirmation offers it one click away (issue 17).
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}/done")
    done = task_of(app, task_id)
    assert done.state == "completed" and done.completed_by == "canbo" and done.form_data["has_basis"] is True
    confirmation = text(officer.get(response.headers["Location"]))
    assert "Đã hoàn thành bước “Xác minh thông tin”" in confirmation
    assert ("Bước tiếp theo: “Đánh giá nguy cơ ban đầu (Mẫu số 02)” giao cho Người làm công tác bảo vệ trẻ em"
            in confirmation)
    assert "Phường Phan Đình Phùng (demo)" in confirmation
    next_id = ready_task(app, case_id, "initial_assessment")
    assert f'href="/tasks/{next_id}"' in confirmation and "Làm tiếp: Đánh giá nguy cơ ban đầu" in confirmation
    assert f"/tasks/{next_id}" in text(officer.get("/"))  # the next step is in the right inbox
    # The completed step now reads back as stored data, with no form to submit again.
    again = officer.get(f"/tasks/{task_id}")
    assert again.status_code == 200 and 'value="complete"' not in again.get_data(as_text=True)
    assert "Đã xác minh tại nhà và trường" in text(again)
    # Submitting the old page again is a conflict, not an error page.
    resubmit = officer.post(f"/tasks/{task_id}", data={**flatten(data), "csrf_token": token(page),
                                                        "_action": "complete", "_version": version_on(page)})
    assert resubmit.status_code == 409 and "không có thay đổi nào được lưu" in text(resubmit)


def test_stale_page_gets_conflict_message_and_changes_nothing(app):
    case_id = open_case(app, crime_suspected=True)  # verification and the police referral run in parallel
    verify_id = ready_task(app, case_id, "verify")
    police_id = ready_task(app, case_id, "police_referral")
    officer = client_for(app, "canbo")
    stale = officer.get(f"/tasks/{verify_id}").get_data(as_text=True)
    # Meanwhile the police referral is completed: the case version moves on.
    fresh = officer.get(f"/tasks/{police_id}").get_data(as_text=True)
    assert officer.post(f"/tasks/{police_id}", data={
        **flatten(demo.sample("police_referral", clock.now())), "csrf_token": token(fresh),
        "_action": "complete", "_version": version_on(fresh)}).status_code == 302
    typed = {**demo.sample("verification", clock.now()), "findings": "Kết quả tôi vừa gõ"}
    response = officer.post(f"/tasks/{verify_id}", data={**flatten(typed), "csrf_token": token(stale),
                                                          "_action": "complete", "_version": version_on(stale)})
    assert response.status_code == 409
    page = text(response)
    assert "Hồ sơ đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu." in page
    assert "Traceback" not in page and "Kết quả tôi vừa gõ</textarea>" in page  # input kept
    assert task_of(app, verify_id).state == "ready"
    assert f'name="_version" value="{case_of(app, case_id).version}"' in page  # may now submit knowingly


def test_plan_rows_grow_and_shrink_without_javascript_and_nested_errors_are_placed(app):
    case_id = open_case(app, stop_at="draft_plan")
    task_id = ready_task(app, case_id, "draft_plan")
    officer = client_for(app, "canbo")
    path = f"/tasks/{task_id}"
    page = officer.get(path).get_data(as_text=True)
    assert 'name="activities.0.measure"' in page and 'name="activities.1.measure"' not in page
    # "Carried out by" is picked from the accounts in scope (tests/web/test_reassign.py), never typed.
    assert '<select id="f-activities-0-assignee" name="activities.0.assignee"' in page
    assert '<option value="truonghoc">Trường THCS Phan Đình Phùng — Phường Phan Đình Phùng (demo)</option>' in page
    assert '<option value="yte">' in page and 'name="activities.0.assignee_name"' not in page
    first = {"measure": "Hoạt động thứ nhất", "level": "support", "assignee": "truonghoc"}
    grown = officer.post(path, data={**flatten({"activities": [first]}), "csrf_token": token(page),
                                     "_add": "activities"})
    assert grown.status_code == 200
    body = grown.get_data(as_text=True)
    assert 'name="activities.1.measure"' in body and '<option value="truonghoc" selected>' in body  # input kept
    assert task_of(app, task_id).draft_data is None  # a row button saves nothing
    shrunk = officer.post(path, data={**flatten({"activities": [first, {"measure": "Khám sức khoẻ"}]}),
                                      "csrf_token": token(body), "_remove": "activities.0"})
    rest = shrunk.get_data(as_text=True)
    assert "Khám sức khoẻ</textarea>" in rest and "Hoạt động thứ nhất" not in rest
    assert 'name="activities.1.measure"' not in rest
    # An activity ending before it starts: the message sits under that row's end date.
    bad = {**first, "responsible_body": "UBND phường", "cost": 0, "start": "2026-03-10", "end": "2026-03-01"}
    response = officer.post(path, data={**flatten({"activities": [bad, {}]}), "csrf_token": token(rest),
                                        "_action": "complete", "_version": version_on(rest)})
    assert response.status_code == 422
    errors = response.get_data(as_text=True)
    assert re.search(r'id="f-activities-0-end-err"><p>Ngày kết thúc phải bằng hoặc sau ngày bắt đầu', errors)
    assert "Các dịch vụ, công việc cần thực hiện › Dòng 1 › Dự kiến kết thúc" in html.unescape(errors)
    assert 'name="activities.1.measure"' not in errors  # the blank spare row was dropped, not an error
    assert task_of(app, task_id).state == "ready"


def test_who_may_open_and_do_a_step(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    # Another commune's officer, a partner, an administrator: the step does not exist for them.
    for username in ("canbo2", "chutich2", "truonghoc", "quantri"):
        client = client_for(app, username)
        assert client.get(f"/tasks/{task_id}").status_code == 404, username
        assert client.post(f"/tasks/{task_id}", data={"_action": "complete"}).status_code in (400, 404), username
    # The chairman, the supervisor and the inspector read the step but cannot do it.
    for username in ("chutich", "giamsat", "thanhtra"):
        client = client_for(app, username)
        page = client.get(f"/tasks/{task_id}")
        assert page.status_code == 200 and 'value="complete"' not in page.get_data(as_text=True), username
        refused = client.post(f"/tasks/{task_id}", data={"csrf_token": token(page.get_data(as_text=True)),
                                                         "_action": "complete", "has_basis": "true"})
        assert refused.status_code == 403, username
    assert task_of(app, task_id).state == "ready"
    assert client_for(app, "canbo").get("/tasks/999999").status_code == 404
    assert app.test_client().get(f"/tasks/{task_id}").status_code == 302  # signed out: to the log-in


def test_partner_sees_only_their_activity(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    with app.app_context():
        rows = db.session.scalars(select(Task).where(Task.case_id == case_id, Task.state == "ready",
                                                     Task.step == "carry_out_activity")).all()
        mine = next(t.id for t in rows if t.assignee == "truonghoc")
        theirs = next(t.id for t in rows if t.assignee == "yte")
        db.session.remove()
    partner = client_for(app, "truonghoc")
    response = partner.get(f"/tasks/{mine}")
    assert response.status_code == 200
    page = text(response)
    assert case_of(app, case_id).number in page
    assert "Tư vấn tâm lý hằng tuần" in page and "Trẻ ổn định tâm lý" in page  # their activity
    assert "Khám sức khoẻ định kỳ" not in page  # the other partner's activity
    for secret in ("Nguyễn Văn An", "Trần Thị Bình", "0912345678", "Tổ 5", "Bà ngoại", "Các bước đã làm"):
        assert secret not in page, secret
    assert f'href="/cases/{case_id}"' not in page
    assert partner.get(f"/tasks/{theirs}").status_code == 404
    assert partner.get(f"/cases/{case_id}").status_code == 404
    assert [e.details["task"] for e in audits(app, "task_viewed", case_id)] == [mine]
    # Reporting the activity done puts nothing of the file in front of them either.
    data = demo.sample("activity_report", clock.now())
    done = post_form(partner, f"/tasks/{mine}", data, _action="complete",
                     _version=str(case_of(app, case_id).version))
    assert done.status_code == 302
    assert task_of(app, mine).state == "completed"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_step_posts_never_fail(app_for_fuzz, data):
    app, client, path, csrf_value, names = app_for_fuzz
    junk = st.one_of(st.text(max_size=40), st.sampled_from(["", "true", "false", "2026-02-30", "31/12/1899",
                                                             "1" * 30, "-5", "<script>", "\x00", "support"]))
    keys = st.one_of(st.sampled_from(names), st.text(max_size=12),
                     st.sampled_from(["_add", "_remove", "_version", "_action", "activities.7.end"]))
    form = data.draw(st.dictionaries(keys, st.one_of(junk, st.lists(junk, max_size=3)), max_size=12))
    form.setdefault("_action", data.draw(st.sampled_from(["complete", "draft", "other", ""])))
    form["csrf_token"] = csrf_value
    response = client.post(path, data=form)
    assert response.status_code < 500, (form, response.status_code)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.fixture
def app_for_fuzz(app):
    case_id = open_case(app, stop_at="draft_plan")
    task_id = ready_task(app, case_id, "draft_plan")
    client = client_for(app, "canbo")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    names = sorted(set(re.findall(r'name="([a-z][a-z_.0-9]*)"', page)))
    return app, client, f"/tasks/{task_id}", token(page), names
