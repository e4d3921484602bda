"""The admin processes page: upload (refused with the lint's findings, 422, nothing saved), diff, activation,
migration of selected cases with a reason for each refusal."""

from __future__ import annotations

import io
import re

import pypdf
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEntry, Case, ProcessVersion
from tests.processes import variants
from web import demo
from web.extensions import db
from web.pdf import dossier


def _admin(app, login):
    client = app.test_client()
    login(client, "quantri")
    return client


def _token(client) -> str:
    page = client.get("/admin/processes").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _upload(client, token: str, text: str | bytes, name: str = "v2.bpmn"):
    raw = text.encode() if isinstance(text, str) else text
    return client.post("/admin/processes/upload", data={"csrf_token": token, "file": (io.BytesIO(raw), name)},
                       content_type="multipart/form-data")


def _versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ProcessVersion.id)))


def test_a_refused_upload_shows_the_findings_next_to_the_field_and_saves_nothing(app, login):
    client = _admin(app, login)
    token = _token(client)
    before = _versions(app)
    broken = variants.broken()
    response = _upload(client, token, broken)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in page and "Tệp có 1 lỗi; chưa có gì được lưu." in page
    # The finding points at the task's line in the uploaded file (the shipped file grows with each issue).
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if '<bpmn:userTask id="Task_verify"' in text)
    assert f"<code>Task_verify</code> (dòng {line}, form)" in page and "verification_v9" in page
    for hostile in (b"", b"\x00\x01", b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
                    b"<a/>" + b" " * (2 * 1024 * 1024)):
        response = _upload(client, token, hostile)
        assert response.status_code in (413, 422) and "root:" not in response.get_data(as_text=True)
    assert client.post("/admin/processes/upload", data={"file": (io.BytesIO(b"x"), "x.bpmn")},
                       content_type="multipart/form-data").status_code == 400  # no CSRF token
    assert _versions(app) == before


def test_upload_diff_activate_and_migrate(app, login, case_engine):
    with app.app_context():
        people = demo.cast(db.session)
        old = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                    demo.sample("mau_01", clock.now()))
        old_id, old_version = old.id, old.process_version_id
    client = _admin(app, login)
    token = _token(client)
    response = _upload(client, token, variants.renamed_and_extended())
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Không có lỗi" in page and "Task_closing_note" in page
    assert f"«Xác minh thông tin» → «{variants.NEW_LABEL}»" in page
    version = int(re.search(r"/admin/processes/(\d+)/activate", page).group(1))

    assert client.post(f"/admin/processes/{version}/activate", data={"csrf_token": token}).status_code == 303
    assert client.post("/admin/processes/999999/activate", data={"csrf_token": token}).status_code == 404
    listing = client.get("/admin/processes").get_data(as_text=True)
    row = listing.split(f'<td data-label="#"><a href="/admin/processes/{version}">')[1].split("</tr>")[0]
    assert "hiện tại" in row and "tải lên bởi quantri" in row
    with app.app_context():
        new = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                    demo.sample("mau_01", clock.now()))
        assert new.process_version_id == version
        assert db.session.get(Case, old_id).process_version_id == old_version
        assert db.session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "process_activated")
                                 .order_by(AuditEntry.id.desc()).limit(1)) == "quantri"

    bad = client.post(f"/admin/processes/{version}/migrate",
                      data={"csrf_token": token, "case_ids": [str(old_id)], "mapping": "no equals sign"})
    assert bad.status_code == 422 and "MÃ_CŨ=MÃ_MỚI" in bad.get_data(as_text=True)
    assert client.post(f"/admin/processes/{version}/migrate",
                       data={"csrf_token": token, "case_ids": ["x'1"]}).status_code == 422
    assert client.post(f"/admin/processes/{version}/migrate", data={"csrf_token": token}).status_code == 422
    done = client.post(f"/admin/processes/{version}/migrate",
                       data={"csrf_token": token, "case_ids": [str(old_id)]})
    assert done.status_code == 200 and "đã chuyển" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, old_id).process_version_id == version
        pdf = dossier.build(db.session, old_id, dossier.Options(actor=people.actors["thanhtra"]), engine=case_engine)
        text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
        assert f"Phiên bản quy trình #{version} · v2.bpmn" in text
    assert app.test_cli_runner().invoke(args=["check"]).exit_code == 0
    officer = app.test_client()
    login(officer, "canbo")
    case_page = officer.get(f"/cases/{old_id}").get_data(as_text=True)
    assert f'<dd class="process-version">#{version} · decree56_case · v2.bpmn' in case_page


def test_only_administrators_see_the_process_pages(app, login):
    client = app.test_client()
    login(client, "canbo")
    assert client.get("/admin/processes").status_code == 403
    assert client.get("/admin/processes/1").status_code == 403
