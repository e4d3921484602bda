"""A returned plan continues from the returned version (issue 17), on both databases: engine.returns finds the
chairman's return and the version returned; the new Mẫu 04 and Mẫu 05 open prefilled with it and the reasons on
top; a draft of the officer's own wins; the chairman's next approval shows what changed, field by field."""

from __future__ import annotations

import html

from sqlalchemy import select

from engine import clock, returns
from engine.models import Task
from tests.web.casework_kit import client_for, flatten, open_case, ready_task, token, version_on
from web import demo
from web.extensions import db

REASONS = "Bổ sung hoạt động tư vấn tâm lý cho mẹ của trẻ; ghi rõ kinh phí."


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def returned_case(app) -> int:
    """A case whose plan the chairman returned once: the new draft_plan step is open."""
    case_id = open_case(app, stop_at="approve_plan")
    chairman = client_for(app, "chutich")
    approval = ready_task(app, case_id, "approve_plan")
    page = text(chairman.get(f"/tasks/{approval}"))
    response = chairman.post(f"/tasks/{approval}", data={"decision": "return", "comments": REASONS,
                                                         "_action": "complete", "csrf_token": token(page),
                                                         "_version": version_on(page)})
    assert response.status_code == 302, text(response)[:500]
    return case_id


def test_the_engine_finds_the_return_and_the_version_returned(app):
    case_id = returned_case(app)
    with app.app_context():
        draft = db.session.scalar(select(Task).where(Task.case_id == case_id, Task.step == "draft_plan",
                                                     Task.state == "ready"))
        first = db.session.scalar(select(Task).where(Task.case_id == case_id, Task.step == "draft_plan",
                                                     Task.state == "completed"))
        decision = returns.returned_for(db.session, draft)
        assert decision is not None and decision.form_data["comments"] == REASONS
        assert returns.returned_version(db.session, draft).id == first.id
        assert returns.prefill(db.session, draft) == first.form_data
        assert returns.returned_for(db.session, first) is None  # a first draft follows no return
        draft.draft_data = {"objectives": "Bản nháp của tôi"}
        assert returns.prefill(db.session, draft) is None  # the officer's own draft wins
        db.session.rollback()
        db.session.remove()


def test_returned_plan_reopens_prefilled_with_the_reasons_on_top_and_the_chairman_sees_the_changes(app):
    case_id = returned_case(app)
    officer = client_for(app, "canbo")
    draft = ready_task(app, case_id, "draft_plan")
    page = text(officer.get(f"/tasks/{draft}"))
    assert "Kế hoạch đã bị trả lại để hoàn thiện" in page and REASONS in page and "Lê Văn Chủ Tịch" in page
    assert page.index(REASONS) < page.index('id="step-form"')  # on top of the step, not in the history
    sample = demo.sample("mau_04", clock.now())
    assert sample["objectives"] in page and sample["activities"][0]["measure"] in page  # prefilled
    assert "mở sẵn nội dung của bản đã bị trả lại" in page

    changed = {**sample, "objectives": "Bảo đảm an toàn, phục hồi tâm lý cho trẻ và hỗ trợ mẹ của trẻ."}
    response = officer.post(f"/tasks/{draft}", data={**flatten(changed), "_action": "complete",
                                                     "csrf_token": token(page), "_version": version_on(page)})
    assert response.status_code == 302, text(response)[:800]
    decision = ready_task(app, case_id, "draft_decision")
    page = text(officer.get(f"/tasks/{decision}"))
    assert REASONS in page and demo.sample("mau_05", clock.now())["decision_number"] in page
    response = officer.post(f"/tasks/{decision}", data={**flatten(demo.sample("mau_05", clock.now())),
                                                        "_action": "complete", "csrf_token": token(page),
                                                        "_version": version_on(page)})
    assert response.status_code == 302, text(response)[:800]

    approval = ready_task(app, case_id, "approve_plan")
    page = text(client_for(app, "chutich").get(f"/tasks/{approval}"))
    assert "Những thay đổi so với bản đã trả lại" in page
    section = page[page.index("Những thay đổi so với bản đã trả lại"):]
    assert sample["objectives"] in section and changed["objectives"] in section
    assert "Không có thay đổi nào so với bản đã trả lại." in section  # Mẫu 05 was resubmitted unchanged
    assert "Kế hoạch đã bị trả lại để hoàn thiện" not in page  # the reasons are the drafting steps' banner


def test_the_api_gives_the_return_and_the_returned_version(app):
    from tests.security import kit

    case_id = returned_case(app)
    draft = ready_task(app, case_id, "draft_plan")
    client = app.test_client()
    officer = kit.bearer(kit.api_token(app, "canbo"))
    detail = client.get(f"/api/v1/tasks/{draft}", headers=officer).get_json()
    assert detail["returned"]["by"] == "chutich" and detail["returned"]["comments"] == REASONS
    assert detail["prefill"]["objectives"] == demo.sample("mau_04", clock.now())["objectives"]
    first = client.get(f"/api/v1/tasks/{ready_task(app, open_case(app), 'verify')}", headers=officer).get_json()
    assert first["returned"] is None and first["prefill"] is None
