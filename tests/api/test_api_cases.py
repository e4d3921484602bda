"""GET /cases/{id} (audited, informant redacted by role), GET /overdue (supervisor), the dossier PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from engine.models import AuditEntry
from tests.api.apikit import assert_error

REDACTED = "[đã ẩn]"  # forms.kit.sensitivity.WITHHELD
READERS = {"canbo": True, "chutich": True, "thanhtra": True, "tiepnhan": True, "giamsat": False}  # → informant shown
REFUSED = ("canbo2", "chutich2", "truonghoc", "yte", "quantri")


def test_case_file_per_role_with_timeline_and_every_read_audited(client, auth, world):
    case_id = world.open(hours_ago=72)  # verification overdue
    world.drive(case_id, stop_at="initial_assessment")
    for username, sees_informant in READERS.items():
        response = client.get(f"/api/v1/cases/{case_id}", headers=auth(username))
        assert response.status_code == 200, (username, response.get_json())
        body = response.get_json()
        assert body["id"] == case_id and body["commune"] == "T01-X01" and body["status"] == "open"
        assert response.headers["ETag"] == f'"{body["version"]}"'
        report = next(e for e in body["timeline"] if e["form"] == "mau_01")
        assert body["informant_visible"] is sees_informant
        if sees_informant:
            assert report["data"]["informant"]["name"] == "Trần Thị Bình", username
        else:
            assert report["data"]["informant"]["name"] == REDACTED and report["data"]["informant"]["phone"] == REDACTED
            assert "Trần Thị Bình" not in response.get_data(as_text=True)
            # The informant's notes (free text in the informant's group) too, where the issue found them verbatim.
            assert report["data"]["informant"]["notes"] == REDACTED and "informant.notes" in report["withheld"]
            assert body["visible_classes"] == ["basic", "private"]
    reads = world.audit(AuditEntry.case_id == case_id, AuditEntry.action == "case_view")
    assert [r.actor for r in reads] == list(READERS)

    timeline = {e["step"]: e for e in body["timeline"]}
    assert timeline["verify"]["status"] == "done_late" and timeline["verify"]["late_by_seconds"] > 0
    assert timeline["verify"]["deadline"]["rule"] == "verify" and timeline["verify"]["completed_by"] == "canbo"
    assert timeline["verify"]["data"]["has_basis"] is True
    # Its limit also counts from the receipt 72 hours ago.
    assert timeline["initial_assessment"]["status"] == "overdue" and timeline["initial_assessment"]["data"] is None
    assert timeline["initial_assessment"]["status_label"] == "Quá hạn"
    assert timeline["receive"]["completed_by"] == "tiepnhan" and timeline["receive"]["deadline"] is None


def test_case_file_out_of_scope_is_404_like_a_missing_one_and_not_audited(client, auth, world):
    case_id = world.open()
    other = world.open("T01-X02")
    for username in REFUSED:
        assert_error(client.get(f"/api/v1/cases/{case_id}", headers=auth(username)), 404, "not_found")
    assert_error(client.get(f"/api/v1/cases/{other}", headers=auth("canbo")), 404, "not_found")
    assert_error(client.get("/api/v1/cases/424242", headers=auth("canbo")), 404, "not_found")
    assert_error(client.get(f"/api/v1/cases/{2**40}", headers=auth("canbo")), 404, "not_found")
    assert world.audit(AuditEntry.action == "case_view") == []
    # The intake point reads the reports it recorded, not the others.
    by_officer = world.open(by="canbo")
    assert_error(client.get(f"/api/v1/cases/{by_officer}", headers=auth("tiepnhan")), 404)


def test_case_file_in_english(client, auth, world):
    case_id = world.open()
    body = client.get(f"/api/v1/cases/{case_id}", headers=auth("canbo", **{"Accept-Language": "en"})).get_json()
    verify = next(e for e in body["timeline"] if e["step"] == "verify")
    assert verify["status_label"] == "Open" and verify["title"] == "Verify the report"
    assert "12 hours" in verify["deadline"]["label"] and body["received_at"].endswith("+07:00")


def test_overdue_list_is_the_supervisors_across_the_province(client, auth, world):
    late_x01 = world.open(hours_ago=72)
    late_x02 = world.open("T01-X02", hours_ago=48)
    world.open(hours_ago=1)  # not yet due
    response = client.get("/api/v1/overdue", headers=auth("giamsat"))
    assert response.status_code == 200 and response.headers["X-Total"] == "2"
    rows = response.get_json()
    assert [(r["case_id"], r["step"]) for r in rows] == [(late_x01, "verify"), (late_x02, "verify")]
    assert all(r["overdue"] and r["overdue_seconds"] > 0 for r in rows)
    assert [r["case_id"] for r in client.get("/api/v1/overdue?commune=T01-X02", headers=auth("giamsat")).get_json()] \
        == [late_x02]
    assert client.get("/api/v1/overdue?step=review", headers=auth("giamsat")).get_json() == []
    soon = client.get("/api/v1/overdue?due_within_hours=24", headers=auth("giamsat"))
    assert soon.headers["X-Total"] == "3"
    paged = client.get("/api/v1/overdue?per_page=1&page=2", headers=auth("giamsat"))
    assert [r["case_id"] for r in paged.get_json()] == [late_x02] and 'rel="prev"' in paged.headers["Link"]
    for username in ("canbo", "chutich", "thanhtra", "tiepnhan", "truonghoc", "quantri"):
        assert_error(client.get("/api/v1/overdue", headers=auth(username)), 403, "forbidden")


def test_dossier_pdf_is_downloaded_by_readers_and_audited(client, auth, world):
    case_id = world.open()
    other = world.open("T01-X02")
    response = client.get(f"/api/v1/cases/{case_id}/dossier.pdf?redact=true", headers=auth("thanhtra"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Trần Thị Bình" not in text  # redacted copy
    entry = world.audit(AuditEntry.action == "dossier_downloaded")
    assert [(e.actor, e.case_id, e.details["redact"], e.details["via"]) for e in entry] == \
        [("thanhtra", case_id, True, "api")]
    assert_error(client.get(f"/api/v1/cases/{other}/dossier.pdf", headers=auth("canbo")), 404)
    # Partners and intake points do not get the dossier (403), as on the web; the world's cases are tiepnhan's.
    for username in ("truonghoc", "tiepnhan"):
        assert_error(client.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=auth(username)), 403, "forbidden")
    assert len(world.audit(AuditEntry.action == "dossier_downloaded")) == 1
