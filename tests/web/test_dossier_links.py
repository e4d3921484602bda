"""Dossier links (issue 17): the case page, the step page, the inbox rows and the case list offer the dossier PDF
to exactly the people engine.access lets download it (officers and chairmen of the commune, the supervisor, the
inspector), every link shown answers 200, and none is shown while the case is restricted (the export answers
409 then) or to those the download refuses (intake points, partners, administrators, other communes)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from engine import access, clock, restriction
from engine.models import Case, Task
from web import demo
from web.extensions import db

LINK = re.compile(r'href="(/cases/(\d+)/dossier\.pdf)"')
PEOPLE = ("canbo", "chutich", "giamsat", "thanhtra", "tiepnhan", "truonghoc", "quantri", "canbo2", "chutich2")


def _links(html: str) -> dict[int, str]:
    return {int(case_id): url for url, case_id in LINK.findall(html)}


def _case_at_plan(case_engine, session) -> tuple[int, int]:
    """A case of T01-X01 with the plan drafting open: its id and that step's id."""
    people = demo.cast(session)
    report = demo.sample("mau_01", clock.now() - timedelta(days=3))
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
    demo.drive(case_engine, session, case, people, stop_at="draft_plan")
    task = session.scalar(select(Task).where(Task.case_id == case.id, Task.step == "draft_plan",
                                             Task.state == "ready"))
    assert task is not None
    return case.id, task.id


def test_dossier_link_wherever_the_download_is_allowed(app, case_engine, login):
    with app.app_context():
        case_id, task_id = _case_at_plan(case_engine, db.session)
        case = db.session.get(Case, case_id)
        people = demo.cast(db.session)
        allowed = {name: access.can_download_dossier(people.actors[name], case) for name in PEOPLE}
        db.session.remove()
    # The rule itself, so the test follows engine.access rather than a list of its own.
    assert {n for n, ok in allowed.items() if ok} == {"canbo", "chutich", "giamsat", "thanhtra"}

    for name in PEOPLE:
        client = app.test_client()
        login(client, name)
        pages = {
            "case": client.get(f"/cases/{case_id}"),
            "step": client.get(f"/tasks/{task_id}"),
            "list": client.get("/cases"),
        }
        for page, response in pages.items():
            if response.status_code != 200:  # a page this person may not open shows no link either
                continue
            links = _links(response.get_data(as_text=True))
            assert (case_id in links) == allowed[name], (name, page)
        shown = [r for r in pages.values() if r.status_code == 200 and case_id in _links(r.get_data(as_text=True))]
        if allowed[name]:
            assert len(shown) == 3, name  # case page, step page and case list
            pdf = client.get(_links(shown[0].get_data(as_text=True))[case_id])
            assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF"), name

    # The officer's inbox row of the step carries the link too.
    officer = app.test_client()
    login(officer, "canbo")
    inbox = officer.get("/").get_data(as_text=True)
    assert case_id in _links(inbox)
    assert officer.get(_links(inbox)[case_id]).status_code == 200


def test_no_dossier_link_while_the_case_is_restricted(app, case_engine, login):
    with app.app_context():
        case_id, task_id = _case_at_plan(case_engine, db.session)
        admin = demo.cast(db.session).actors["quantri"]
        restriction.restrict(db.session, admin, case_id, {
            "authority": "Công an tỉnh", "document_number": "12/CV", "reason": "Điều tra",
            "document_date": date.today().strftime("%d/%m/%Y")})
        db.session.remove()
    officer = app.test_client()
    login(officer, "canbo")
    for path in (f"/cases/{case_id}", f"/tasks/{task_id}", "/cases", "/"):
        response = officer.get(path)
        assert response.status_code == 200, path
        assert case_id not in _links(response.get_data(as_text=True)), path
    assert officer.get(f"/cases/{case_id}/dossier.pdf").status_code == 409  # what the hidden link would give
    # The inspector's search and case pages hide it too (they used to link to the 409).
    inspector = app.test_client()
    login(inspector, "thanhtra")
    for path in (f"/inspector/cases/{case_id}", "/inspector"):
        response = inspector.get(path)
        assert response.status_code == 200, path
        assert case_id not in _links(response.get_data(as_text=True)), path
    assert inspector.get(f"/cases/{case_id}/dossier.pdf").status_code == 409
