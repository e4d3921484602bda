"""Hostile input on the privacy forms (issue 18), fuzzed like every other form (tests/security/test_fuzz.py): the
request receipt and its steps, the breach record, notice and closure (administrator), the representatives
(officer). None may answer 5xx or show a traceback; the administrator's pages still work afterwards."""

from __future__ import annotations

from datetime import timedelta

from engine import breaches, clock, data_requests
from tests.security.test_fuzz import _seed_per_database, everywhere, form_data, fuzz, one_at_a_time, posting
from tests.web.casework_kit import case_of, client_for, open_case, token
from web import demo
from web.extensions import db

__all__ = ["_seed_per_database"]  # the fuzz module's per-database seed applies here too


def _minutes_ago(minutes: int) -> str:
    return clock.local(clock.now() - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def test_privacy_forms_fuzzed(app):
    case_id = open_case(app)
    number = case_of(app, case_id).number
    report = {"discovered_at": _minutes_ago(120), "discovered_by": "Cán bộ xã", "description": "Mất máy.",
              "data_categories": ["identity"], "subjects_count": 1, "risks": ["dignity"]}
    with app.app_context():
        engine, admin_actor = app.extensions["case56_engine"], demo.cast(db.session).actors["quantri"]
        request = data_requests.of(engine).receive(db.session, admin_actor, {
            "case_number": number, "received_at": _minutes_ago(60), "requester_kind": "child",
            "requester_name": "Nguyễn Văn An", "request_type": "copy", "identity_document": "CCCD",
            "details": "Bản sao."})
        step = data_requests.of(engine).open_step(db.session, request.id)
        breach = breaches.record(engine, db.session, admin_actor, report)
        request_id, step_id, breach_id = request.id, step.id if step else 0, breach.id
        db.session.remove()
    admin = client_for(app, "quantri")
    csrf_value = token(admin.get("/admin/privacy").get_data(as_text=True))
    receipt = {"case_number": number, "received_at": _minutes_ago(30), "requester_kind": "representative",
               "representative_id": "1", "requester_name": "Trần Thị Bình", "request_type": "delete",
               "identity_document": "CCCD", "details": "Xoá dữ liệu."}
    ack = {"identity_verified": "false", "decision": "refuse", "refusal_ground": "dossier_retention", "reply": "x"}
    record = {"discovered_at": _minutes_ago(5), "discovered_by": "Cán bộ", "description": "Mất.",
              "data_categories": "identity", "subjects_count": "2", "risks": "life"}
    notice = {"recipient": "a05", "sent_at": _minutes_ago(1), "reference": "CV 1", "content": "Thông báo.",
              "late_reason": ""}
    closure = {"outcome": "", "subjects_informed": "true"}
    for label, path, base in (
            ("request receipt", "/admin/privacy/requests/new", receipt),
            ("request acknowledgement", f"/admin/privacy/requests/{request_id}/steps/{step_id}", ack),
            ("breach record", "/admin/privacy/breaches/new", record),
            ("breach notice", f"/admin/privacy/breaches/{breach_id}/notify", notice),
            ("breach closure", f"/admin/privacy/breaches/{breach_id}/close", closure)):
        names = sorted(base)
        fuzz(label, form_data(names, base), posting(admin, path, csrf_value),
             explicit=everywhere(names) + one_at_a_time(base))
    for path in ("/admin", "/admin/privacy", f"/admin/privacy/requests/{request_id}",
                 f"/admin/privacy/breaches/{breach_id}", "/admin/privacy/requests/new?case_number=%3Cscript%3E",
                 "/admin/privacy?status=%3Cscript%3E&page=-9"):
        assert admin.get(path).status_code == 200, path
    assert admin.get("/admin/privacy/requests/new?case_number=%00").status_code == 400  # NUL: refused app-wide
    officer = client_for(app, "canbo")
    csrf_value = token(officer.get(f"/cases/{case_id}/representatives").get_data(as_text=True))
    representative = {"full_name": "Trần Thị Bình", "relation": "mother", "contact": "0912 345 678",
                      "id_number": "001186001234", "alleged_abuser": "false", "note": ""}
    names = sorted(representative)
    fuzz("representative", form_data(names, representative),
         posting(officer, f"/cases/{case_id}/representatives", csrf_value),
         explicit=everywhere(names) + one_at_a_time(representative))
    assert officer.get(f"/cases/{case_id}/representatives?edit=abc").status_code == 200
