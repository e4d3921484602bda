"""Issue 16 on the pages: the new-report page records the incident commune (picker) and the residence commune
(any commune), the commune's receipt time and the coded statistics fields; the case and step pages show both
receipts, the moment limits run from and both communes; a bad entry comes back on its field in Vietnamese with
nothing saved. Both databases."""

from __future__ import annotations

from datetime import timedelta

from engine import clock
from tests.web.casework_kit import case_of, client_for, flatten, ready_task, token
from web import demo
from web.filters import vn_datetime


def text(response) -> str:
    return response.get_data(as_text=True)


def test_report_page_records_both_communes_and_receipts(app):
    intake = client_for(app, "tiepnhan")
    page = text(intake.get("/reports/new"))
    assert 'name="incident_commune"' not in page and 'name="residence_commune"' in page
    assert 'name="commune_received_at"' in page and 'name="child.personal_id"' in page
    assert "[ngoài mẫu chính thức]" in page  # case56's own fields are marked
    now = clock.now()
    report = demo.sample("mau_01", now, received_at=(now - timedelta(hours=1)).isoformat(),
                         commune_received_at=(now - timedelta(hours=3)).isoformat(), residence_commune="T01-X02",
                         perpetrator_relationships=["cha_me"],
                         child={"full_name": "Hà Thị Lan", "estimated_age": 8, "sex": "female", "ethnicity": "07"})
    report["received_at"] = clock.local(now - timedelta(hours=1)).strftime("%d/%m/%Y %H:%M")
    report["commune_received_at"] = clock.local(now - timedelta(hours=3)).strftime("%d/%m/%Y %H:%M")
    done = intake.post("/reports/new", data={**flatten(report), "_commune": "T01-X01", "csrf_token": token(page)})
    assert done.status_code == 302, text(done)
    case_id = int(done.headers["Location"].rsplit("/", 1)[1])
    case = case_of(app, case_id)
    assert case.number.startswith("T01-X01-") and case.child_ethnicity == "07"
    assert case.received_at == case.commune_received_at < case.intake_received_at

    officer = client_for(app, "canbo")
    shown = text(officer.get(f"/cases/{case_id}"))
    assert "Nơi tiếp nhận: " in shown and "UBND xã/phường: " in shown and "Thời hạn tính từ: " in shown
    assert "Xã Đại Từ (demo)" in shown  # the residence commune
    step = text(officer.get(f"/tasks/{ready_task(app, case_id, 'verify')}"))
    assert "Thời hạn tính từ: " + vn_datetime(case.received_at) in step


def test_bad_residence_or_identification_number_comes_back_on_its_field(app):
    intake = client_for(app, "tiepnhan")
    page = text(intake.get("/reports/new"))
    report = demo.sample("mau_01", clock.now(), residence_commune="T99-X99")
    report["child"]["personal_id"] = "12345"
    response = intake.post("/reports/new", data={**flatten(report), "_commune": "T01-X01",
                                                 "csrf_token": token(page)})
    assert response.status_code == 422
    body = text(response)
    assert 'id="f-child-personal_id-err"' in body and "Số định danh cá nhân gồm đúng 12 chữ số." in body
    report["child"]["personal_id"] = ""
    response = intake.post("/reports/new", data={**flatten(report), "_commune": "T01-X01",
                                                 "csrf_token": token(page)})
    assert response.status_code == 422
    assert 'id="f-residence_commune-err"' in text(response) and "Không có xã, phường với mã này" in text(response)
    with app.app_context():
        from sqlalchemy import func, select

        from engine.models import Case
        from web.extensions import db
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        db.session.remove()


def test_dossier_prints_the_official_channel_both_receipts_and_communes(app, case_engine):
    import io
    import unicodedata

    import pypdf

    from web.extensions import db
    from web.pdf import dossier

    with app.app_context():
        session = db.session
        people = demo.cast(session)
        now = clock.now()
        report = demo.sample("mau_01", now, channel="hotline_111", residence_commune="T01-X02",
                             received_at=(now - timedelta(hours=2)).isoformat(),
                             commune_received_at=(now - timedelta(hours=1)).isoformat())
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
        pdf = dossier.build(session, case.id, dossier.Options(actor=people.actors["thanhtra"]))
        session.remove()
    text = unicodedata.normalize("NFC", " ".join(" ".join(
        (page.extract_text() or "").split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    assert "[x] Qua điện thoại" in text and "[ ] Trực tiếp" in text and "[ ] Do người khác báo tin" in text
    assert "ghi trên case56: Tổng đài điện thoại quốc gia bảo vệ trẻ em 111" in text
    assert "[ngoài mẫu chính thức]" in text  # e.g. the statistics fields and the commune codes
    assert "UBND xã, phường nhận thông tin" in text and "Nơi tiếp nhận nhận thông tin" in text
    assert "Nơi trẻ em cư trú Xã Đại Từ (demo)" in text


def test_routed_transfer_is_visible_in_the_timeline(app, case_engine):
    from web.extensions import db

    with app.app_context():
        people = demo.cast(db.session)
        case = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                     demo.sample("mau_01", clock.now(), residence_commune="T01-X02"))
        demo.drive(case_engine, db.session, case, people, stop_at="detailed_assessment")
        case_id = case.id
        db.session.remove()
    page = text(client_for(app, "canbo2").get(f"/cases/{case_id}"))
    assert "Chuyển hồ sơ trẻ em đến xã, phường khác" in page and "· Hệ thống</span>" in page
    assert "Điều 52 khoản 2 Luật Trẻ em" in page  # the recorded reason
    assert text(client_for(app, "canbo").get(f"/cases/{case_id}")) != page  # the incident commune no longer holds it
    audit_page = text(client_for(app, "thanhtra").get(f"/inspector/cases/{case_id}"))
    assert "chuyển theo: xã, phường nơi trẻ em cư trú xây dựng kế hoạch" in audit_page, audit_page[-3000:]
