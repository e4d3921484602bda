"""Attachments: content-checked uploads stored by checksum outside the database, audited downloads."""

from __future__ import annotations

import hashlib
import html
import io
from pathlib import Path

from sqlalchemy import func, select

from engine import crypto
from engine.models import Attachment
from tests.web.casework_kit import audits, client_for, open_case, ready_task, token
from web import attachments as storage
from web.extensions import db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
HTML = b"<html><script>alert(1)</script></html>"


def upload(client, case_id: int, content: bytes, name: str, **fields):
    path = f"/cases/{case_id}/attachments/new"
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": token(page), "file": (io.BytesIO(content), name), **fields},
                       content_type="multipart/form-data")


def rows(app) -> list[Attachment]:
    with app.app_context():
        found = list(db.session.scalars(select(Attachment).order_by(Attachment.id)))
        db.session.expunge_all()
        db.session.remove()
        return found


def stored_files(app) -> list[Path]:
    root = Path(app.config["CASE56_ATTACHMENTS"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_sniffing_decides_by_content():
    assert storage.sniff(PDF) == "application/pdf"
    assert storage.sniff(PNG) == "image/png"
    assert storage.sniff(JPEG) == "image/jpeg"
    for other in (EXE, HTML, b"", b"%PD", b"GIF89a", b"PK\x03\x04"):
        assert storage.sniff(other) is None
    assert storage.clean_name("../../etc/passwd.pdf", "image/png") == "passwd.png"
    assert storage.clean_name("C:\\scan\\biên bản\x07.PDF", "application/pdf") == "biên bản.pdf"
    assert storage.clean_name("", "image/jpeg") == "tai-lieu.jpg"


def test_officer_attaches_evidence_stored_by_checksum_and_audited(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    officer = client_for(app, "canbo")
    response = upload(officer, case_id, PDF, "giấy chứng nhận y tế.pdf", task=str(task_id),
                      description="Giấy chứng nhận thương tích")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_id}#attachments")
    [row] = rows(app)
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row.case_id, row.task_id, row.sha256, row.size) == (case_id, task_id, digest, len(PDF))
    assert row.content_type == "application/pdf" and row.uploaded_by == "canbo" and row.uploaded_at is not None
    assert row.file_name == "giấy chứng nhận y tế.pdf"
    # Outside the database, named by the checksum, sealed (AES-GCM) under the configured key: not the plaintext.
    [path] = stored_files(app)
    blob = path.read_bytes()
    assert path.name == digest and blob.startswith(crypto.MAGIC) and PDF not in blob and b"%PDF" not in blob
    assert crypto.key_id_of(blob) == storage.keyring_of(app.config["CASE56_ATTACHMENT_KEYS"]).current
    [entry] = audits(app, "attachment_uploaded", case_id)
    assert entry.actor == "canbo" and entry.details["sha256"] == digest
    # Listed on the case page, with who, when and the step.
    page = html.unescape(officer.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "giấy chứng nhận y tế.pdf" in page and f'href="/attachments/{row.id}"' in page
    assert digest[:16] in page and "Giấy chứng nhận thương tích" in page and "Xác minh thông tin" in page
    # The same content again is stored once.
    assert upload(officer, case_id, PDF, "ban-sao.pdf").status_code == 302
    assert len(rows(app)) == 2 and len(stored_files(app)) == 1


def test_content_type_spoofing_and_limits_are_refused(app):
    case_id = open_case(app)
    officer = client_for(app, "canbo")
    # A program or a web page named .pdf is refused by its content; nothing is kept.
    for content, name in ((EXE, "bien-ban.pdf"), (HTML, "anh.jpg"), (b"GIF89a" + b"\x00" * 20, "anh.png")):
        response = upload(officer, case_id, content, name)
        assert response.status_code == 415, name
        assert "Chỉ nhận tệp PDF, PNG hoặc JPEG" in html.unescape(response.get_data(as_text=True))
    assert upload(officer, case_id, b"", "rong.pdf").status_code == 400
    missing = officer.post(f"/cases/{case_id}/attachments/new", data={
        "csrf_token": token(officer.get(f"/cases/{case_id}/attachments/new").get_data(as_text=True))})
    assert missing.status_code == 400 and "Hãy chọn tệp" in html.unescape(missing.get_data(as_text=True))
    assert rows(app) == [] and stored_files(app) == []
    assert audits(app, "attachment_uploaded", case_id) == []
    # A real image under a .pdf name is accepted as what it is.
    assert upload(officer, case_id, PNG, "that-ra-la-anh.pdf").status_code == 302
    [row] = rows(app)
    assert row.content_type == "image/png" and row.file_name == "that-ra-la-anh.png"
    # Too large for the configured limit.
    app.config["CASE56_ATTACHMENT_MAX_BYTES"] = 1000
    big = upload(officer, case_id, JPEG + b"\x00" * 2000, "anh-lon.jpg")
    assert big.status_code == 413 and "Tệp quá lớn" in html.unescape(big.get_data(as_text=True))
    assert len(rows(app)) == 1 and len(stored_files(app)) == 1
    # Beyond the request limit itself: the same friendly refusal, not a bare error page.
    app.config["MAX_CONTENT_LENGTH"] = 2000
    huge = upload(officer, case_id, PDF + b"\x00" * 5000, "qua-lon.pdf")
    assert huge.status_code == 413 and "Tệp quá lớn" in html.unescape(huge.get_data(as_text=True))
    # A step of another case cannot be named.
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    other = ready_task(app, open_case(app), "verify")
    wrong = upload(officer, case_id, PDF, "a.pdf", task=str(other))
    assert wrong.status_code == 400 and len(rows(app)) == 1


def test_who_may_upload(app):
    case_id = open_case(app)
    assert upload(client_for(app, "chutich"), case_id, JPEG, "anh.jpg").status_code == 302
    for username, status in (("giamsat", 403), ("thanhtra", 403), ("canbo2", 404), ("truonghoc", 404),
                             ("tiepnhan", 403), ("quantri", 404)):
        client = client_for(app, username)
        assert client.get(f"/cases/{case_id}/attachments/new").status_code == status, username
        blocked = client.post(f"/cases/{case_id}/attachments/new", data={"file": (io.BytesIO(PDF), "x.pdf")},
                              content_type="multipart/form-data")
        assert blocked.status_code in (400, status), username  # 400: refused already at the CSRF check
    assert len(rows(app)) == 1


def test_downloads_are_permission_checked_and_audited(app):
    case_id = open_case(app)
    assert upload(client_for(app, "canbo"), case_id, PDF, "bien-ban.pdf").status_code == 302
    [row] = rows(app)
    for username in ("canbo", "thanhtra"):
        response = client_for(app, username).get(f"/attachments/{row.id}")
        assert response.status_code == 200, username
        assert response.data == PDF and response.mimetype == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
        assert "bien-ban.pdf" in response.headers["Content-Disposition"]
        assert "no-store" in response.headers["Cache-Control"]
    # The supervisor reads the case but not its sensitive class: the file is not theirs to open (Decree 356
    # Art. 4), and the case page shows that it exists without its name or a link.
    for username in ("giamsat", "canbo2", "chutich2", "truonghoc", "quantri"):
        response = client_for(app, username).get(f"/attachments/{row.id}")
        assert response.status_code == 404 and PDF not in response.data, username
    page = client_for(app, "giamsat").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "bien-ban.pdf" not in page and f"/attachments/{row.id}" not in page and "[đã ẩn]" in page
    assert client_for(app, "canbo").get("/attachments/424242").status_code == 404
    downloads = audits(app, "attachment_downloaded", case_id)
    assert [e.actor for e in downloads] == ["canbo", "thanhtra"]
    assert all(e.details["sha256"] == row.sha256 for e in downloads)
    # A file altered in the store no longer matches its checksum: refused, and the refusal is logged.
    [path] = stored_files(app)
    path.write_bytes(PDF + b"tampered")
    response = client_for(app, "canbo").get(f"/attachments/{row.id}")
    assert response.status_code == 410 and b"tampered" not in response.data
    assert len(audits(app, "attachment_downloaded", case_id)) == 2  # the refused download is not counted as one
    assert [e.actor for e in audits(app, "attachment_missing", case_id)] == ["canbo"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
        db.session.remove()
