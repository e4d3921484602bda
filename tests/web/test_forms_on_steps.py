"""Issue 16 on the step pages, both databases: the parents' views refused when they caused the harm (Mẫu 03,
Art. 27.1.h), the needs meeting chaired by a delegate only with the reason recorded (Art. 27.2), the decision and
plan sent to the parents unless unsafe (Mẫu 05, Art. 28.5) — each refusal a Vietnamese message next to its field,
status 422, nothing saved; the same data corrected completes the step and is stored under the new version."""

from __future__ import annotations

import copy
import html

from engine import clock
from engine.models import Task
from tests.web.casework_kit import client_for, open_case, post_form, ready_task, task_of, version_on
from web import demo


def _complete(client, task_id: int, data: dict):
    path = f"/tasks/{task_id}"
    page = client.get(path).get_data(as_text=True)
    return post_form(client, path, data, _action="complete", _version=version_on(page))


def test_parents_who_caused_the_harm_are_not_heard_on_the_step_page(app):
    case_id = open_case(app, stop_at="detailed_assessment")
    task_id = ready_task(app, case_id, "detailed_assessment")
    officer = client_for(app, "canbo")
    page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    for name in ("abuse_risk_factors.rating", "self_protection.description", "community_support.rating",
                 "needs.legal_aid.needed", "needs.counselling.detail", "parents_views.0.caused_harm",
                 "parents_views.0.not_taken_reason", "child_views"):
        assert f'name="{name}"' in page, name
    assert "h) Ý kiến, nguyện vọng của cha, mẹ, người chăm sóc trẻ" in html.unescape(page)
    data = copy.deepcopy(demo.sample("mau_03", clock.now()))
    data["parents_views"][0]["views"] = "Tôi chỉ dạy dỗ con."
    refused = _complete(officer, task_id, data)
    body = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert 'id="f-parents_views-0-views-err"' in body
    assert "Người này là người gây tổn hại cho trẻ: không lấy ý kiến, nguyện vọng của họ (Điều 27.1.h" in body
    assert task_of(app, task_id).state == "ready"
    done = _complete(officer, task_id, demo.sample("mau_03", clock.now()))
    assert done.status_code == 302
    stored = task_of(app, task_id)
    assert stored.form_version == 2 and stored.form_data["parents_views"][0]["caused_harm"] is True
    assert stored.form_data["parents_views"][0]["views"] is None


def test_a_delegate_chairs_the_needs_meeting_only_with_the_reason(app):
    case_id = open_case(app, stop_at="needs_meeting")
    task_id = ready_task(app, case_id, "needs_meeting")
    officer = client_for(app, "canbo")
    delegated = {**demo.sample("needs_meeting", clock.now()), "chaired_by": "delegate",
                 "chair_name": "Phạm Văn Phó", "chair_position": "Phó Chủ tịch UBND phường"}
    refused = _complete(officer, task_id, delegated)
    body = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and 'id="f-delegation_reason-err"' in body
    assert "Phải ghi lý do ủy quyền khi người chủ trì không phải là Chủ tịch UBND cấp xã" in body
    assert task_of(app, task_id).state == "ready"
    done = _complete(officer, task_id, {**delegated, "delegation_reason": "Chủ tịch đi công tác tỉnh."})
    assert done.status_code == 302
    stored = task_of(app, task_id)
    assert stored.form_version == 2 and stored.form_data["chaired_by"] == "delegate"
    assert [p["category"] for p in stored.form_data["participants"]] == [
        "responsible_body", "residential_area", "parent_caregiver"]


def test_the_decision_goes_to_the_parents_unless_unsafe(app):
    case_id = open_case(app, stop_at="draft_decision")
    task_id = ready_task(app, case_id, "draft_decision")
    officer = client_for(app, "canbo")
    sample = demo.sample("mau_05", clock.now())
    bodies_only = {**sample, "distribution": [r for r in sample["distribution"] if r["kind"] == "responsible_body"]}
    refused = _complete(officer, task_id, bodies_only)
    body = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "Quyết định và kế hoạch phải được gửi đến cha, mẹ hoặc người chăm sóc trẻ (Điều 28.5" in body
    unsafe = {**bodies_only, "parents_unsafe": True}
    body = html.unescape(_complete(officer, task_id, unsafe).get_data(as_text=True))
    assert 'id="f-parents_unsafe_reason-err"' in body and task_of(app, task_id).state == "ready"
    done = _complete(officer, task_id, {**unsafe, "parents_unsafe_reason": "Người cha gây tổn hại, sống cùng mẹ."})
    assert done.status_code == 302
    stored: Task = task_of(app, task_id)
    assert stored.form_version == 2 and "recipients" not in stored.form_data
    assert [r["kind"] for r in stored.form_data["distribution"]] == ["responsible_body", "responsible_body"]
