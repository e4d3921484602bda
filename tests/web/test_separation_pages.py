"""Issue 16 on the web and the API: "Tách trẻ tạm thời" (Mẫu 07, Art. 32) at any point of an open case and
"Điều chỉnh kế hoạch" while activities run (Art. 29.1a), with the plan versions on the case page."""

from __future__ import annotations

import io

import pypdf
from sqlalchemy import select

from engine import clock
from engine.models import Task
from tests.web.casework_kit import case_of, client_for, flatten, open_case, ready_task, token, version_on
from web import demo
from web.extensions import db


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


def test_the_dossier_holds_the_separation_court_and_adjustment(app, case_engine):
    """A case through separation, court request and plan adjustment: its dossier has each decision with its
    article (pypdf text of the PDF)."""
    case_id = open_case(app, stop_at="carry_out_activity")
    with app.app_context():
        people = demo.cast(db.session)

        def step(name: str) -> Task:
            return db.session.scalars(select(Task).where(Task.case_id == case_id, Task.step == name,
                                                         Task.state == "ready")).one()

        def complete(name: str, **override) -> None:
            task = step(name)
            case_engine.complete_task(db.session, people.for_task(task), task.id,
                                      demo.sample(task.form, clock.now(), **override))

        case_engine.request_separation(db.session, people.actors["chutich"], case_id,
                                       demo.sample("separation_request", clock.now()))
        complete("separation_decision")
        complete("separation_review", action="court", reason="Cha chưa bảo đảm an toàn.")
        complete("court_request")
        complete("court_decision")
        case_engine.request_adjustment(db.session, people.actors["canbo"], case_id)
        complete("propose_adjustment")
        complete("approve_adjustment")
        db.session.remove()
    response = client_for(app, "chutich").get(f"/cases/{case_id}/dossier.pdf")
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    flat = " ".join(text.split())
    for expected in ("Mẫu số 07", "Điều 32", "Tòa án nhân dân khu vực", "12/2026/QĐ-TA", "điều chỉnh kế hoạch",
                     "Điều 29 khoản 1 điểm a"):
        assert expected.lower() in flat.lower(), expected
