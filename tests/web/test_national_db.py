"""Entry into the national children database (Decree 56 Art. 30.3): at plan approval and at closure the case has
an occasion to enter; the officer exports the plan dossier (JSON valid against the published schema, and CSV),
confirms "đã nhập CSDL" with the day (audited), and the cases not yet entered are listed for the officer (their
commune) and the province supervisor (their province), on the pages and in the API."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from engine import clock, national_db
from engine.clock import LOCAL_TZ
from engine.models import AuditEntry, NationalDbEntry, User
from tests.web.casework_kit import client_for, open_case, token
from web import demo
from web.api import tokens
from web.extensions import db


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def _api(app, username: str) -> dict[str, str]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        issued = tokens.issue(db.session, user, f"test {username}", 90, username)
        db.session.remove()
    return {"Authorization": f"Bearer {issued.token}"}


def _occasions(app, case_id: int) -> list[tuple[str, int]]:
    with app.app_context():
        from engine.models import Case

        case = db.session.get(Case, case_id)
        found = [(o.kind, o.task.id) for o in national_db.occasions(db.session, case)]
        db.session.remove()
        return found


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def _check_schema(document: dict) -> None:
    """Valid against the published schema, as the export itself is checked (jsonschema, Draft 2020-12)."""
    assert national_db.validate(document) == []


def test_the_validator_refuses_what_the_schema_refuses():
    assert national_db.validate({})[:1] == ["$: 'schema' is a required property"]
    ok = {"type": "object", "required": ["a"], "additionalProperties": False,
          "properties": {"a": {"type": ["string", "null"], "format": "date"}, "n": {"type": "integer", "minimum": 0},
                         "m": {"type": "string", "format": "date-time"}}}
    assert national_db.validate({"a": "2026-02-30"}, ok) == ["$.a: '2026-02-30' is not a 'date'"]
    assert national_db.validate({"a": None, "n": True}, ok) == ["$.n: True is not of type 'integer'"]
    assert national_db.validate({"a": None, "x": 1}, ok) == [
        "$: Additional properties are not allowed ('x' was unexpected)"]
    assert national_db.validate({"a": None, "m": "2026-12-05T09:00:00"}, ok) == [
        "$.m: '2026-12-05T09:00:00' is not a 'date-time'"]  # a moment without its offset is ambiguous
    assert national_db.validate({"a": None, "m": "2026-12-05T09:00:00+07:00"}, ok) == []


def test_export_entry_and_the_pending_lists(app, tmp_path):
    with time_machine.travel(vn(2026, 12, 1, 9, 0), tick=True):
        case_id = open_case(app, stop_at="carry_out_activity")  # the plan is approved
    [(kind, approval)] = _occasions(app, case_id)
    assert kind == "plan_approval"

    with time_machine.travel(vn(2026, 12, 3, 9, 0), tick=True):
        officer, supervisor = client_for(app, "canbo"), client_for(app, "giamsat")
        for client in (officer, supervisor):
            page = client.get("/national-db").get_data(as_text=True)
            assert "Phê duyệt kế hoạch" in page and f'/cases/{case_id}/national-db' in page
        assert f'/cases/{case_id}/national-db' not in client_for(app, "canbo2").get("/national-db").get_data(
            as_text=True)  # another commune's officer
        for other in ("chutich", "thanhtra", "tiepnhan", "quantri"):
            assert client_for(app, other).get("/national-db").status_code == 403, other
            assert client_for(app, other).get(f"/cases/{case_id}/national-db").status_code in (403, 404), other

        # The supervisor follows, but the export (the child's identity) is the officer's to download.
        assert "Tải dữ liệu JSON" not in supervisor.get(f"/cases/{case_id}/national-db").get_data(as_text=True)
        assert supervisor.get(f"/cases/{case_id}/national-db/{approval}.json").status_code == 404

        page = officer.get(f"/cases/{case_id}/national-db").get_data(as_text=True)
        assert "chưa nhập CSDL" in page and "Tải dữ liệu JSON" in page
        response = officer.get(f"/cases/{case_id}/national-db/{approval}.json")
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        document = json.loads(response.get_data())
        _check_schema(document)
        assert document["schema_version"] == "1.0" and document["occasion"]["kind"] == "plan_approval"
        assert document["plan"]["activities"] and document["plan"]["total_cost"] == sum(
            a["cost"] or 0 for a in document["plan"]["activities"])
        assert document["review"] is None and document["closure"] is None
        assert "informant" not in json.dumps(document)
        rows = list(csv.reader(io.StringIO(officer.get(
            f"/cases/{case_id}/national-db/{approval}.csv").get_data().decode("utf-8-sig"))))
        values = dict(rows[1:])
        assert rows[0] == ["truong", "gia_tri"] and values["case.number"] == document["case"]["number"]
        assert values["plan.activities.1.measure"] == document["plan"]["activities"][0]["measure"]
        assert officer.get(f"/cases/{case_id}/national-db/{approval}.xml").status_code == 404
        assert officer.get(f"/cases/{case_id}/national-db/999999.json").status_code == 404
        exported = _audit(app, "national_db_exported")
        assert [(a.actor, a.details["format"], a.details["exporter"]) for a in exported] == [
            ("canbo", "json", "download"), ("canbo", "csv", "download")]

        # Confirm: bad input is refused field by field, nothing saved.
        csrf = token(page)
        for data, field in (({"entered_on": "31/02/2026"}, "entered_on"), ({"entered_on": "04/12/2026"}, "entered_on"),
                            ({"entered_on": "30/11/2026"}, "entered_on"),
                            ({"entered_on": "03/12/2026", "reference": "x y"}, "reference")):
            refused = officer.post(f"/cases/{case_id}/national-db/{approval}", data={"csrf_token": csrf, **data})
            assert refused.status_code == 422 and f'id="err-{field}"' in refused.get_data(as_text=True), data
        assert supervisor.post(f"/cases/{case_id}/national-db/{approval}",
                               data={"csrf_token": csrf, "entered_on": "03/12/2026"}).status_code in (400, 404)
        done = officer.post(f"/cases/{case_id}/national-db/{approval}",
                            data={"csrf_token": csrf, "entered_on": "03/12/2026", "reference": "HN-2026/0042"})
        assert done.status_code == 303
        page = officer.get(f"/cases/{case_id}/national-db").get_data(as_text=True)
        assert "đã nhập CSDL" in page and "03/12/2026" in page and "HN-2026/0042" in page
        with app.app_context():
            entry = db.session.scalars(select(NationalDbEntry)).one()
            assert (entry.occasion, entry.source_task_id, entry.confirmed_by, entry.export_version) == (
                "plan_approval", approval, "canbo", "1.0")
            assert entry.export_sha256 == document["export"]["content_sha256"]  # the content entered
            db.session.remove()
        [entered] = _audit(app, "national_db_entered")
        assert (entered.actor, entered.details["entered_on"], entered.details["reference"]) == (
            "canbo", "2026-12-03", "HN-2026/0042")
        assert f'/cases/{case_id}/national-db' not in officer.get("/national-db").get_data(as_text=True)

        # The API gives the same answers.
        api = app.test_client()
        officer_api, supervisor_api = _api(app, "canbo"), _api(app, "giamsat")
        assert api.get("/api/v1/national-db/pending", headers=officer_api).get_json() == []
        listed = api.get(f"/api/v1/cases/{case_id}/national-db", headers=supervisor_api).get_json()
        assert [(o["occasion"], o["entered"], o["entry"]["entered_on"]) for o in listed] == [
            ("plan_approval", True, "2026-12-03")]
        again = api.post(f"/api/v1/cases/{case_id}/national-db/{approval}/entry", headers=officer_api,
                         json={"entered_on": "2026-12-03"})
        assert again.status_code == 409 and again.get_json()["code"] == "invalid_state"
        bad = api.post(f"/api/v1/cases/{case_id}/national-db/{approval}/entry", headers=officer_api,
                       json={"entered_on": "03/12/2026", "extra": 1})
        assert bad.status_code == 422 and {"entered_on", "extra"} <= set(bad.get_json()["errors"])
        assert api.get(f"/api/v1/cases/{case_id}/national-db/{approval}/export",
                       headers=supervisor_api).status_code == 404
        assert api.get("/api/v1/national-db/pending", headers=_api(app, "chutich")).status_code == 403
        exported = api.get(f"/api/v1/cases/{case_id}/national-db/{approval}/export?format=json", headers=officer_api)
        assert exported.status_code == 200 and exported.headers["X-Case56-Export-Sha256"] == entry.export_sha256

    # Closure: the rest of the case is done; a new occasion appears, with the review and the closing decision.
    with time_machine.travel(vn(2027, 1, 20, 9, 0), tick=True), app.app_context():
        from engine.models import Case

        engine = app.extensions["case56_engine"]
        case = db.session.get(Case, case_id)
        demo.drive(engine, db.session, case, demo.cast(db.session))
        assert db.session.get(Case, case_id).status == "closed"
        db.session.remove()
    kinds = [k for k, _t in _occasions(app, case_id)]
    assert kinds[0] == "plan_approval" and kinds[-1] == "closure"
    closure = _occasions(app, case_id)[-1][1]
    with time_machine.travel(vn(2027, 1, 21, 9, 0), tick=True):
        api = app.test_client()
        headers = _api(app, "canbo")
        pending = api.get("/api/v1/national-db/pending", headers=headers).get_json()
        assert ("closure", closure) in [(o["occasion"], o["task_id"]) for o in pending]
        assert any(o["case_id"] == case_id for o in api.get("/api/v1/national-db/pending",
                                                               headers=_api(app, "giamsat")).get_json())
        document = api.get(f"/api/v1/cases/{case_id}/national-db/{closure}/export", headers=headers).get_json()
        _check_schema(document)
        assert document["case"]["status"] == "closed" and document["closure"]["decision"] == "end"
        assert document["review"] is not None
        created = api.post(f"/api/v1/cases/{case_id}/national-db/{closure}/entry", headers=headers,
                           json={"entered_on": "2027-01-21", "reference": None})
        assert created.status_code == 201 and created.get_json()["entered"] is True
        assert all(o["case_id"] != case_id for o in api.get("/api/v1/national-db/pending", headers=headers).get_json())


def test_exporters_are_pluggable(tmp_path):
    assert national_db.exporter().name == "download"
    directory = national_db.exporter("directory", directory=tmp_path)
    assert isinstance(directory, national_db.DirectoryExporter)
    made = national_db.exporter("engine.national_db:DownloadExporter")
    assert made.name == "download"
    with pytest.raises(ValueError, match="unknown national database exporter"):
        national_db.exporter("ftp")
    with pytest.raises(ValueError, match="no deliver"):
        national_db.exporter("collections:OrderedDict")


def test_the_directory_exporter_writes_both_files(app, tmp_path):
    with time_machine.travel(vn(2026, 12, 1, 9, 0), tick=True):
        case_id = open_case(app, stop_at="carry_out_activity")
    [(_kind, approval)] = _occasions(app, case_id)
    with app.app_context():
        from engine.models import Case

        occ = national_db.occasion(db.session, db.session.get(Case, case_id), approval)
        export = national_db.build(db.session, occ, "canbo")
        delivery = national_db.exporter("directory", directory=tmp_path).deliver(export, "json")
        db.session.remove()
    written = sorted(p.suffix for p in tmp_path.iterdir())
    assert written == [".csv", ".json"] and delivery.location.endswith(".json")
    assert json.loads((tmp_path / delivery.location.split("/")[-1]).read_text(encoding="utf-8"))["case"]["number"]
    assert clock.now()  # the clock is back
