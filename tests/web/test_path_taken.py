"""The path taken (engine/path.py) is reported the same by the case page's drawing, the API and the dossier PDF,
for a case that went through an emergency with a cancelled separation and a review that sent it back to a new
plan before it closed; on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from engine import clock, path
from engine.models import User
from web import demo
from web.api import tokens
from web.extensions import db
from web.pdf import dossier

SVG = "{http://www.w3.org/2000/svg}"


def _case(app) -> tuple[int, str]:
    engine = app.config["CASE56_ENGINE"]
    with app.app_context():
        people = demo.cast(db.session)
        case = engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                demo.sample("mau_01", clock.now()))
        done = demo.drive(engine, db.session, case, people, choices={
            "mau_02": {"emergency": True, "danger_description": "Trẻ bị đánh nhiều lần, có thương tích."},
            # Issue 16: the emergency measures ask for Mẫu 07; the chairman's decision opens the separation's
            # review, which may cancel it only after a Mẫu 03 reassessment of the parents (Art. 32.3).
            "emergency_measures": {"separate": True, "separation_reason": "Người cha gây tổn hại."},
            "separation_review": [{"action": "reassess", "reason": "Đánh giá lại cha mẹ trước khi hủy bỏ."},
                                  {"action": "cancel"}],
            "mau_06": [{"conclusion": "replan", "no_longer_at_risk": False}, {}],
        })
        assert done.count("draft_plan") == 2 and done.count("separation_review") == 2, done
        assert "separation_reassessment" in done and done[-1] == "end_plan", done
        officer = db.session.scalar(select(User).where(User.username == "canbo"))
        bearer = tokens.issue(db.session, officer, "path test", 1, "canbo").token
        case_id = case.id
        db.session.remove()
    return case_id, bearer


def _drawn(svg: str) -> dict[str, set[str]]:
    root = ET.fromstring(svg)
    out: dict[str, set[str]] = {"done": set(), "current": set(), "flows": set()}
    for g in root.iter(f"{SVG}g"):
        state, kind = g.get("data-state"), g.get("data-kind")
        if state in ("done", "current") and kind != "flow":
            out[state].add(g.get("data-id"))
        elif state == "done" and kind == "flow":
            out["flows"].add(g.get("data-id"))
    return out


def test_page_api_and_pdf_report_the_same_path(app, login, monkeypatch):
    case_id, bearer = _case(app)
    client = app.test_client()
    login(client, "canbo")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>") + len("</svg>")]
    on_page = _drawn(svg)

    api = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {bearer}"}).get_json()["path"]
    assert {k: set(v) for k, v in api.items()} == on_page

    drawn_in_pdf: list[path.PathTaken] = []
    real = path.path_taken

    def spy(definition, tasks):
        drawn_in_pdf.append(real(definition, tasks))
        return drawn_in_pdf[-1]

    monkeypatch.setattr(path, "path_taken", spy)
    with app.app_context():
        pdf = dossier.build(db.session, case_id)
    assert pdf.startswith(b"%PDF") and len(drawn_in_pdf) == 1
    taken = drawn_in_pdf[0]
    assert {"done": set(taken.done), "current": set(taken.current), "flows": set(taken.flows)} == on_page

    # What the path says: the separation was decided (Mẫu 07), the parents reassessed and the separation ended, the
    # review looped back to a new plan, and the case closed.
    assert {"Task_separation_decision", "Task_separation_reassessment", "Task_separation_review", "End_separation",
            "Gateway_merge_replan", "Task_end_plan", "End_closed"} <= on_page["done"]
    assert not on_page["current"] and "End_no_basis" not in on_page["done"]
    assert "Flow_merge_replan__merge_plan" in on_page["flows"]
