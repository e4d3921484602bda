"""Issue 18 from the outside, on both databases: an administrator restricts a case on the admin page (field
errors in Vietnamese, nothing saved), the case page shows the banner, the step page, the API (409 JSON) and
the dossier refuse; retention pages run the two-person destruction and the destroyed attachment answers 410;
attachments are sealed at rest, a missing key is a clear 503, `case56 attachments encrypt|rotate-key` migrate
and rotate, and a backup keeps the files sealed."""

from __future__ import annotations

import html
import io
import os
import tarfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from engine import audit, clock, crypto, restriction
from engine.models import Attachment, Case, CaseRestriction, User
from tests.api.apikit import assert_error
from tests.web.casework_kit import client_for, open_case, ready_task, token
from tests.web.test_attachments import PDF, upload
from web import attachments as storage
from web import demo
from web.extensions import db

ORDER = {"authority": "Công an tỉnh (PA05)", "document_number": "123/CV-PA05", "document_date": "01/12/2026",
         "reason": "Đề nghị tạm dừng xử lý."}


def case_number(app, case_id: int) -> str:
    with app.app_context():
        number = db.session.get(Case, case_id).number
        db.session.remove()
        return number


def post(client, path: str, page_path: str, data: dict[str, str]):
    page = client.get(page_path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": token(page), **data})


def test_admin_restricts_and_lifts_and_every_door_is_closed_meanwhile(app, tmp_path):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    admin, officer = client_for(app, "quantri"), client_for(app, "canbo")
    number = case_number(app, case_id)
    # Field errors in Vietnamese, status 400, nothing saved.
    bad = post(admin, "/admin/restrictions", "/admin/restrictions",
               {**ORDER, "case_number": "KHONG-CO", "document_date": "32/13/2026", "reason": ""})
    text = html.unescape(bad.get_data(as_text=True))
    assert bad.status_code == 400 and "Không có hồ sơ nào mang số này." in text
    assert "Ngày văn bản phải có dạng dd/mm/yyyy." in text and "Hãy nhập lý do." in text
    with app.app_context():
        assert db.session.scalar(select(CaseRestriction)) is None
        db.session.remove()
    # Only administrators reach the page.
    assert officer.get("/admin/restrictions").status_code in (302, 403)
    done = post(admin, "/admin/restrictions", "/admin/restrictions", {**ORDER, "case_number": number})
    assert done.status_code == 302
    listing = html.unescape(admin.get("/admin/restrictions").get_data(as_text=True))
    assert number in listing and "123/CV-PA05" in listing
    # The case page: banner, no action buttons.
    page = html.unescape(officer.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "Hồ sơ đang bị hạn chế xử lý" in page and "Công an tỉnh (PA05)" in page
    assert f"/cases/{case_id}/attachments/new" not in page
    # The step refuses with the Vietnamese message; the attachment form and the dossier refuse too.
    step_page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Hồ sơ đang bị hạn chế xử lý" in html.unescape(step_page)
    submitted = officer.post(f"/tasks/{task_id}", data={"csrf_token": token(step_page), "_action": "draft"})
    assert submitted.status_code == 409 and "hạn chế xử lý" in html.unescape(submitted.get_data(as_text=True))
    assert officer.get(f"/cases/{case_id}/attachments/new").status_code == 409
    assert officer.get(f"/cases/{case_id}/dossier.pdf").status_code == 409
    exported = app.test_cli_runner().invoke(args=["dossier", number, "-o", str(tmp_path / "d.pdf")])
    assert exported.exit_code == 1 and "hạn chế xử lý" in exported.output and not (tmp_path / "d.pdf").exists()
    with app.app_context():
        restriction_id = restriction.active(db.session, case_id).id
        db.session.remove()
    lifted = post(admin, f"/admin/restrictions/{restriction_id}/lift", "/admin/restrictions",
                  {"reason": "Cơ quan yêu cầu rút đề nghị."})
    assert lifted.status_code == 302
    assert "Hồ sơ đang bị hạn chế xử lý" not in html.unescape(officer.get(f"/cases/{case_id}").get_data(as_text=True))
    assert officer.get(f"/cases/{case_id}/attachments/new").status_code == 200


def test_the_api_answers_409_json_for_a_restricted_case(app, case_engine):
    from web.api import tokens

    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    with app.app_context():
        restriction.restrict(db.session, demo.cast(db.session).actors["quantri"], case_id, ORDER)
        user = db.session.scalar(select(User).where(User.username == "canbo"))
        bearer = {"Authorization": f"Bearer {tokens.issue(db.session, user, 't', 30, 'canbo').token}"}
        db.session.remove()
    client = app.test_client()
    body = assert_error(client.put(f"/api/v1/tasks/{task_id}/draft", json={"data": {}}, headers=bearer),
                        409, "case_restricted")
    assert "hạn chế xử lý" in body["message"]
    assert_error(client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}, headers=bearer),
                 409, "case_restricted")
    assert_error(client.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=bearer), 409, "case_restricted")
    assert client.get(f"/api/v1/cases/{case_id}", headers=bearer).status_code == 200  # still readable


def test_destruction_from_the_admin_pages_and_the_destroyed_attachment(app, tmp_path):
    policy = tmp_path / "retention.toml"
    policy.write_text('[classes.y1]\nyears = 1\n[records.case_file]\nclass = "y1"\n'
                      '[records.attachment]\nclass = "y1"\n')
    app.config["CASE56_RETENTION_FILE"] = str(policy)
    case_id = open_case(app)
    officer = client_for(app, "canbo")
    assert upload(officer, case_id, PDF, "biên bản.pdf").status_code == 302
    with app.app_context():
        engine, people = app.extensions["case56_engine"], demo.cast(db.session)
        demo.drive(engine, db.session, db.session.get(Case, case_id), people, choices={"verification": {
            "has_basis": False, "reason_no_basis": "Không có sự việc."}})
        case = db.session.get(Case, case_id)
        db.session.execute(update(Case).where(Case.id == case_id)
                           .values(closed_at=case.closed_at - timedelta(days=800)))
        db.session.add(User(username="quantri2", full_name="Quản Trị Hai", role="admin", created_at=clock.now(),
                            password_hash=db.session.scalar(select(User.password_hash)
                                                            .where(User.username == "quantri")), locale="vi"))
        db.session.commit()
        [attachment] = db.session.scalars(select(Attachment))
        attachment_id, sha256 = attachment.id, attachment.sha256
        db.session.remove()
    first, second = client_for(app, "quantri"), client_for(app, "quantri2")
    page = html.unescape(first.get("/admin/retention").get_data(as_text=True))
    assert case_number(app, case_id) in page
    refused = post(first, "/admin/retention/destructions", "/admin/retention", {"reason": ""})
    assert refused.status_code == 400 and "Hãy nhập lý do huỷ." in html.unescape(refused.get_data(as_text=True))
    assert post(first, "/admin/retention/destructions", "/admin/retention", {"reason": "Hết hạn"}).status_code == 302
    mine = html.unescape(first.get("/admin/retention").get_data(as_text=True))
    assert "Một quản trị viên khác phải xác nhận đề nghị này." in mine
    assert post(first, "/admin/retention/destructions/1/confirm", "/admin/retention",
                {"note": "tự xác nhận"}).status_code == 403
    assert post(second, "/admin/retention/destructions/1/confirm", "/admin/retention",
                {"note": "Đã kiểm tra"}).status_code == 302
    assert not storage.path_for(app.config["CASE56_ATTACHMENTS"], sha256).exists()
    assert officer.get(f"/attachments/{attachment_id}").status_code == 410
    case_page = html.unescape(officer.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "Nội dung hồ sơ đã được huỷ" in case_page and "Tài liệu đính kèm đã được huỷ" in case_page
    # A destroyed case still makes its dossier (numbers, dates, steps; no content) without an error.
    dossier = officer.get(f"/cases/{case_id}/dossier.pdf")
    assert dossier.status_code == 200 and dossier.mimetype == "application/pdf"
    with app.app_context():
        assert audit.verify(db.session) == []
        db.session.remove()


def test_attachments_sealed_missing_key_encrypt_rotate_and_backup(app, tmp_path):
    case_id = open_case(app)
    officer = client_for(app, "canbo")
    assert upload(officer, case_id, PDF, "a.pdf").status_code == 302
    with app.app_context():
        [row] = db.session.scalars(select(Attachment))
        attachment_id, sha256 = row.id, row.sha256
        db.session.remove()
    root = Path(app.config["CASE56_ATTACHMENTS"])
    path = storage.path_for(root, sha256)
    old_key = app.config["CASE56_ATTACHMENT_KEYS"]
    assert officer.get(f"/attachments/{attachment_id}").data == PDF  # decrypted for an allowed reader
    # A key the file needs is missing: a clear 503, never the ciphertext or a traceback.
    app.config["CASE56_ATTACHMENT_KEYS"] = crypto.new_key_line("other")
    missing = officer.get(f"/attachments/{attachment_id}")
    assert missing.status_code == 503 and "CASE56_ATTACHMENT_KEYS" in html.unescape(missing.get_data(as_text=True))
    app.config["CASE56_ATTACHMENT_KEYS"] = ""
    refused = upload(officer, case_id, PDF + b"2", "b.pdf")
    assert refused.status_code == 503 and "Chưa cấu hình khoá" in html.unescape(refused.get_data(as_text=True))
    # Rotation: the new key first, the old one still listed; every file is re-sealed under the new key.
    new = crypto.new_key_line("k2")
    app.config["CASE56_ATTACHMENT_KEYS"] = f"{new},{old_key}"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["attachments", "rotate-key"])
    assert result.exit_code == 0 and "rotated=1" in result.output, result.output
    assert crypto.key_id_of(path.read_bytes()) == "k2"
    app.config["CASE56_ATTACHMENT_KEYS"] = new  # the old key can go now
    assert officer.get(f"/attachments/{attachment_id}").data == PDF
    # A file stored before encryption is sealed by `encrypt`.
    path.write_bytes(PDF)
    assert officer.get(f"/attachments/{attachment_id}").data == PDF  # served meanwhile (checksum verified)
    result = runner.invoke(args=["attachments", "encrypt"])
    assert result.exit_code == 0 and "encrypted=1" in result.output, result.output
    assert crypto.key_id_of(path.read_bytes()) == "k2" and PDF not in path.read_bytes()
    status = runner.invoke(args=["attachments", "status"])
    assert "k2: 1" in status.output
    # The backup carries the sealed file, not the plaintext.
    archive = tmp_path / "backup.tar.gz"
    assert runner.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(sha256))
        data = tar.extractfile(member).read()
    assert data.startswith(crypto.MAGIC) and PDF not in data
    # Files no kept attachment names (an interrupted upload, a destruction) go after an hour, the others stay.
    stray = storage.path_for(root, "b" * 64)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"x")
    assert "orphans: 0" in runner.invoke(args=["attachments", "purge-orphans"]).output  # too recent
    old = time.time() - 7200
    os.utime(stray, (old, old))
    os.utime(path, (old, old))
    listed = runner.invoke(args=["attachments", "purge-orphans", "--dry-run"]).output
    assert "would remove " + "b" * 64 in listed and stray.exists()
    assert "orphans: 1" in runner.invoke(args=["attachments", "purge-orphans"]).output
    assert not stray.exists() and path.exists()
    # A mistyped key is named, the run changes nothing.
    app.config["CASE56_ATTACHMENT_KEYS"] = "k3:not-base64!"
    bad = runner.invoke(args=["attachments", "rotate-key"])
    assert bad.exit_code == 2 and "not valid base64" in bad.output
    assert io.BytesIO(path.read_bytes()).read(5) == crypto.MAGIC
