"""web/labels.py: a step is titled by the process version its case runs on — in the inbox, on the case page and
in the API alike — and not by the shipped file; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from engine import clock, versions
from engine.models import User
from tests.processes import variants
from web import demo
from web.api import tokens
from web.extensions import db

PROVINCE_TITLE = "Verify the report (province wording)"


def _province_version(app) -> tuple[int, int, str]:
    """A case on the shipped version, then a case on an uploaded version that titles Task_verify its own way."""
    engine = app.config["CASE56_ENGINE"]
    text = variants.shipped().replace('<bpmn:userTask id="Task_verify" name="Xác minh thông tin">',
                                      '<bpmn:userTask id="Task_verify" name="Xác minh thông tin (tỉnh)">', 1)
    text = text.replace('name="title_en" value="Verify the report"', f'name="title_en" value="{PROVINCE_TITLE}"', 1)
    assert PROVINCE_TITLE in text
    with app.app_context():
        people = demo.cast(db.session)
        old = engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
        version = versions.upload(engine, db.session, "quantri", text.encode(), "t01.bpmn").version.id
        versions.activate(engine, db.session, "quantri", version, "T01")
        new = engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
        assert new.process_version_id == version != old.process_version_id
        db.session.scalar(select(User).where(User.username == "canbo")).locale = "en"
        db.session.commit()
        ids = (old.id, new.id)
        canbo = db.session.scalar(select(User).where(User.username == "canbo"))
        bearer = tokens.issue(db.session, canbo, "labels test", 1, "canbo").token
        db.session.remove()
    return (*ids, bearer)


def test_a_step_is_titled_by_its_cases_version(app, login):
    old, new, bearer = _province_version(app)
    client = app.test_client()
    login(client, "canbo")
    inbox = client.get("/").get_data(as_text=True)
    assert PROVINCE_TITLE in inbox and "Verify the report</a>" in inbox
    assert PROVINCE_TITLE in client.get(f"/cases/{new}").get_data(as_text=True)
    assert PROVINCE_TITLE not in client.get(f"/cases/{old}").get_data(as_text=True)

    headers = {"Authorization": f"Bearer {bearer}", "Accept-Language": "en"}
    listed = client.get("/api/v1/tasks", headers=headers).get_json()
    titles = {row["case_id"]: row["title"] for row in listed if row["step"] == "verify"}
    assert titles == {old: "Verify the report", new: PROVINCE_TITLE}
    detail = client.get(f"/api/v1/cases/{new}", headers=headers).get_json()
    assert {row["title"] for row in detail["timeline"] if row["step"] == "verify"} == {PROVINCE_TITLE}
