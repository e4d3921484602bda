"""Issue 16 on the web and the API: "Tách trẻ tạm thời" (Mẫu 07, Art. 32) at any point of an open case and
"Điều chỉnh kế hoạch" while activities run (Art. 29.1a), with the plan versions on the case page."""

from __future__ import annotations

from engine import clock
from tests.web.casework_kit import case_of, client_for, flatten, open_case, ready_task, token, version_on
from web import demo


def test_separation_asked_for_from_the_case_page(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    chairman = client_for(app, "chutich")
    page = chairman.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/separation"' in page
    assert f'action="/cases/{case_id}/adjustment"' not in page  # the officer proposes adjustments
    path = f"/cases/{case_id}/separation"
    form = chairman.get(path).get_data(as_text=True)
    assert "Điều 32" in form
    bad = chairman.post(path, data={"csrf_token": token(form), "_version": version_on(form)})
    assert bad.status_code == 422 and 'id="f-reason-err"' in bad.get_data(as_text=True)
    data = flatten(demo.sample("separation_request", clock.now()))
    done = chairman.post(path, data={**data, "csrf_token": token(form), "_version": version_on(form)})
    assert done.status_code == 302
    assert ready_task(app, case_id, "separation_decision")
    version = str(case_of(app, case_id).version)
    again = chairman.post(path, data={**data, "csrf_token": token(form), "_version": version})
    assert again.status_code == 409 and "mỗi lần" in again.get_data(as_text=True)
    # not for another commune, the supervisor or a partner
    assert client_for(app, "canbo2").get(path).status_code == 404
    assert client_for(app, "giamsat").get(path).status_code == 403


def test_plan_adjustment_from_the_case_page_and_plan_versions(app):
    case_id = open_case(app, stop_at="carry_out_activity")
    officer = client_for(app, "canbo")
    page = officer.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'action="/cases/{case_id}/adjustment"' in page and "v1 · kế hoạch" in page
    moved = officer.post(f"/cases/{case_id}/adjustment", data={"csrf_token": token(page), "_version": version_on(page)})
    assert moved.status_code == 302
    proposal = ready_task(app, case_id, "propose_adjustment")
    assert moved.headers["Location"].endswith(f"/tasks/{proposal}")
    again = officer.post(f"/cases/{case_id}/adjustment", data={"csrf_token": token(page),
                                                                "_version": str(case_of(app, case_id).version)})
    assert again.status_code == 303
