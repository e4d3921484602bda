"""Redaction is driven by the sensitivity classes of the form fields (forms/kit/sensitivity.py, issue 18).

The informant's name, phone and the child's address are planted in EVERY free-text field of EVERY registered form
(the registry is walked, so a new form is covered without touching this test). Then none of them may be found in
the redacted dossier — its extracted text (pdftotext) nor its decompressed content streams — nor in the API
answers and dossier of a role without the right to the field's classes; a role with the right does see them (so
the checks are not vacuous). A text an officer marks releasable comes through with its mark; the confidentiality
stamp is on every page and in the audit row.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
import zlib
from typing import Any

import pytest
from sqlalchemy import select

import forms
from engine import access, clock
from engine.models import Attachment, AuditEntry, Case, Task
from forms.kit import sensitivity
from forms.kit.fields import ObjectList
from tests.security import kit
from tests.web.casework_kit import client_for, open_case
from web.extensions import db

WORDS = ["Khuất", "Giấu", "Kín", "Che", "Lặn", "Vắng", "Khuya", "Trốn", "Mờ", "Tối", "Sâu", "Lánh"]
ROLES = ("canbo", "chutich", "giamsat", "thanhtra", "tiepnhan")  # officer, chairman, supervisor, inspector, intake


def _free_texts() -> list[tuple[str, int, sensitivity.Leaf]]:
    return [(name, version, leaf) for name in forms.names() for version in forms.versions(name)
            for leaf in sensitivity.leaves(forms.get(name, version).schema) if leaf.free_text]


# Free texts a form declared basic ("not personal data"): each one reviewed, so that a narrative field declared
# basic by mistake fails here instead of leaking. They get a harmless value below.
REVIEWED_BASIC_TEXTS = {("data_request", "case_number"), ("breach_notification", "reference")}


def _free_text_combos() -> list[frozenset[str]]:
    return sorted({leaf.classes for _n, _v, leaf in _free_texts() if leaf.classes != {sensitivity.BASIC}}, key=sorted)


def test_free_texts_declared_basic_are_the_reviewed_ones():
    basic = {(name, ".".join(leaf.path)) for name, _v, leaf in _free_texts() if leaf.classes == {sensitivity.BASIC}}
    assert basic == REVIEWED_BASIC_TEXTS


COMBOS = _free_text_combos()
assert len(COMBOS) <= len(WORDS), "more class combinations than planted identities: add words"
# One planted identity per combination of classes: who may see a field depends only on its classes.
SECRETS = {combo: (f"Lò Văn {WORDS[i]}", f"09{i:02d}765432", f"Bản Pá {WORDS[i]}") for i, combo in enumerate(COMBOS)}


def _planted(combo: frozenset[str], max_length: int) -> str:
    name, phone, address = SECRETS[combo]
    text = f"{name} {phone} {address}"
    return text if len(text) <= max_length else name[:max_length]


def _plant(schema: Any, inherited: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Data for `schema` with the planted identity in every free-text field (lists get one item)."""
    from forms.kit.description import instance, nested_schema

    data: dict[str, Any] = {}
    for name, field in instance(schema).fields.items():
        nested = nested_schema(field)
        if nested is not None:
            item = _plant(nested, inherited | sensitivity.own_classes(field))
            data[name] = [item] if isinstance(field, ObjectList) else item
        elif sensitivity.is_free_text(field):
            classes, size = sensitivity.classes_of(field, inherited), field.metadata.get("max_length", 255)
            basic = classes == {sensitivity.BASIC}
            data[name] = "không phải dữ liệu cá nhân"[:size] if basic else _planted(classes, size)
    return data


def _case_with_everything_planted(app) -> tuple[int, list[int]]:
    """A case (opened by the demo intake point) holding one completed step per registered form, every free text
    planted; Mẫu 01's own data replaced by the planted one."""
    case_id = open_case(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        report = db.session.scalar(select(Task).where(Task.case_id == case_id, Task.form == "mau_01"))
        report.form_data = _plant(forms.get("mau_01", report.form_version).schema)
        ids = [report.id]
        now = clock.now()
        for name in forms.names():
            if name == "mau_01":
                continue
            spec = forms.get(name)
            task = Task(case_id=case_id, spiff_id=str(uuid.uuid4()), step=f"planted_{name}"[:60],
                        title=spec.title_vi[:200], role="officer", commune_id=case.commune_id,
                        province_id=case.province_id, state="completed", created_at=now, completed_at=now,
                        completed_by="canbo", form=name, form_version=spec.version, form_data=_plant(spec.schema))
            db.session.add(task)
            db.session.flush()
            ids.append(task.id)
        db.session.commit()
        db.session.remove()
    return case_id, ids


def _pdf_text(pdf: bytes, tmp_path) -> tuple[str, list[str]]:
    """pdftotext's text (another PDF engine than the one that wrote it), whole and per page."""
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                         timeout=120).stdout.decode("utf-8")
    pages = out.split("\f")
    return " ".join(out.split()), [" ".join(page.split()) for page in pages if page.strip()]


def _streams(pdf: bytes) -> bytes:
    """Every stream of the file, decompressed where it is Flate-encoded (content streams, fonts, metadata)."""
    out = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            out.append(match.group(1))
    return b"\n".join(out)


def _forms_of(secret: str) -> list[bytes]:
    """The ways a text can sit in PDF bytes: UTF-8, UTF-16BE (text strings) and, for digits, plain ASCII."""
    return [secret.encode("utf-8"), secret.encode("utf-16-be")]


def _visible(role: str) -> frozenset[str]:
    actor = {"canbo": "officer", "chutich": "chairman", "giamsat": "supervisor", "thanhtra": "inspector",
             "tiepnhan": "intake"}[role]
    return access.visible_classes(access.Actor(role, actor))


def _assert_only_allowed(text: str, visible: frozenset[str], what: str) -> None:
    for combo, secrets in SECRETS.items():
        if combo <= visible:
            assert secrets[0] in text, (what, sorted(combo), "should be shown")
        else:
            for secret in secrets:
                assert secret not in text, (what, sorted(combo), secret)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
def test_planted_identities_never_leave_through_redaction_or_to_roles_without_the_right(app, tmp_path):
    assert {"informant", "sensitive", "private"} <= set().union(*COMBOS)  # the walk found every kind
    case_id, task_ids = _case_with_everything_planted(app)
    # Sanity: the planted values are in the stored data, in every form.
    with app.app_context():
        stored = {t.form: json.dumps(t.form_data, ensure_ascii=False)
                  for t in db.session.scalars(select(Task).where(Task.id.in_(task_ids)))}
        db.session.remove()
    assert set(stored) == set(forms.names())
    assert all(any(s[0] in dump for s in SECRETS.values()) for form, dump in stored.items()
               if any(leaf.free_text for leaf in sensitivity.leaves(forms.get(form).schema))), stored

    # 1. The redacted dossier (API ?redact=true, by the officer who may see everything) — text and bytes.
    officer = kit.bearer(kit.api_token(app, "canbo"))
    response = app.test_client().get(
        f"/api/v1/cases/{case_id}/dossier.pdf?redact=true&level=han_che&recipients=Công an huyện Mẫu Sơn",
        headers=officer)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    redacted = response.data
    text, pages = _pdf_text(redacted, tmp_path)
    raw = _streams(redacted)
    for combo, secrets in SECRETS.items():
        for secret in secrets:
            assert secret not in text, (sorted(combo), secret)
            for encoded in _forms_of(secret):
                assert encoded not in raw, (sorted(combo), secret, encoded)
    assert "[đã ẩn]" in text and "BẢN ĐÃ ẨN THÔNG TIN" in text
    # The stamp chosen for this export on every page, and in the audit row of the download.
    assert pages and all("Mức độ mật: Hạn chế" in page and "Công an huyện Mẫu Sơn" in page for page in pages)
    with app.app_context():
        row = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                          AuditEntry.action == "dossier_downloaded")).all()[-1]
        assert row.details["stamp_level"] == "han_che" and row.details["stamp_recipients"] == "Công an huyện Mẫu Sơn"
        db.session.remove()

    # The same dossier unredacted, for the officer: every planted identity is there (the checks above bite).
    full = app.test_client().get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=officer).data
    full_text, full_pages = _pdf_text(full, tmp_path)
    assert all(secrets[0] in full_text for secrets in SECRETS.values())
    assert all("Mức độ mật: Mật" in page for page in full_pages)

    # 2. The API, role by role: the case with its timeline, and every step.
    for role in ROLES:
        auth = kit.bearer(kit.api_token(app, role))
        client = app.test_client()
        visible = _visible(role)
        case = client.get(f"/api/v1/cases/{case_id}", headers=auth)
        assert case.status_code == 200, (role, case.status_code)
        _assert_only_allowed(json.dumps(case.get_json(), ensure_ascii=False), visible, f"{role} case")
        for task_id in task_ids:
            step = client.get(f"/api/v1/tasks/{task_id}", headers=auth)
            assert step.status_code == 200, (role, task_id)
            body = json.dumps(step.get_json(), ensure_ascii=False)
            for combo, secrets in SECRETS.items():
                if not combo <= visible:
                    assert all(secret not in body for secret in secrets), (role, task_id, sorted(combo))
    # The supervisor (no right to the informant nor to free text) and their own dossier from the web.
    assert _visible("giamsat") == {"basic", "private"}
    supervisor_pdf = client_for(app, "giamsat").get(f"/cases/{case_id}/dossier.pdf")
    assert supervisor_pdf.status_code == 200
    _assert_only_allowed(_pdf_text(supervisor_pdf.data, tmp_path)[0], _visible("giamsat"), "supervisor dossier")
    # The supervisor's case page too.
    page = client_for(app, "giamsat").get(f"/cases/{case_id}").get_data(as_text=True)
    _assert_only_allowed(page, _visible("giamsat"), "supervisor case page")


def test_a_text_marked_releasable_comes_through_with_its_mark_and_only_while_unchanged(app, tmp_path):
    case_id = open_case(app, stop_at="initial_assessment")  # verification done by the officer
    with app.app_context():
        verify = db.session.scalar(select(Task).where(Task.case_id == case_id, Task.form == "verification"))
        verify.form_data = {**verify.form_data, "findings": "Trẻ ở với bà ngoại, an toàn; gia đình hợp tác.",
                            "sources": "Lời kể của Lò Văn Khuất, hàng xóm"}
        verify_id = verify.id
        db.session.commit()
        db.session.remove()
    officer, supervisor = kit.bearer(kit.api_token(app, "canbo")), kit.bearer(kit.api_token(app, "giamsat"))
    client = app.test_client()

    def supervisor_view() -> dict[str, Any]:
        body = client.get(f"/api/v1/cases/{case_id}", headers=supervisor).get_json()
        return next(e for e in body["timeline"] if e["task_id"] == verify_id)

    before = supervisor_view()
    assert before["data"]["findings"] == "[đã ẩn]" and "findings" in before["withheld"] and before["releases"] == []
    # Who may mark: the case's officer or chairman; never the supervisor or the intake point; never the informant.
    url = f"/api/v1/cases/{case_id}/releases"
    for role in ("giamsat", "tiepnhan"):
        refused = client.post(url, json={"task_id": verify_id, "field": "findings"},
                              headers=kit.bearer(kit.api_token(app, role)))
        assert refused.status_code in (403, 404), role
    report = db_task(app, case_id, "mau_01")
    bad = client.post(url, json={"task_id": report, "field": "informant.notes"}, headers=officer)
    assert bad.status_code == 422 and "người báo tin" in bad.get_json()["message"]  # a rule of the step's form
    bad = client.post(url, json={"task_id": verify_id, "field": "has_basis"}, headers=officer)
    assert bad.status_code == 422 and "field" in bad.get_json()["errors"]
    bad = client.post(url, json={"task_id": verify_id, "field": "findings", "reason": "x" * 501}, headers=officer)
    assert bad.status_code == 422

    marked = client.post(url, json={"task_id": verify_id, "field": "findings",
                                    "reason": "Sở cần nắm tình hình an toàn của trẻ"}, headers=officer)
    assert marked.status_code == 201, marked.get_json()
    assert marked.get_json()["released_by"] == "canbo"
    after = supervisor_view()
    assert after["data"]["findings"] == "Trẻ ở với bà ngoại, an toàn; gia đình hợp tác."
    assert after["data"]["sources"] == "[đã ẩn]"  # only the field marked
    assert [r["field"] for r in after["releases"]] == ["findings"] and after["releases"][0]["released_by"] == "canbo"
    # The redacted dossier shows it, with its mark; the other free text stays withheld.
    pdf = client.get(f"/api/v1/cases/{case_id}/dossier.pdf?redact=true", headers=officer).data
    text = _pdf_text(pdf, tmp_path)[0]
    assert "Trẻ ở với bà ngoại, an toàn; gia đình hợp tác." in text and "Lò Văn Khuất" not in text
    assert "được đánh dấu được phép cung cấp bởi" in text and "Sở cần nắm tình hình an toàn của trẻ" in text
    with app.app_context():
        actions = [r.action for r in db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id))]
        db.session.remove()
    assert "text_released" in actions

    # The mark holds for the text marked: a changed text is withheld again.
    with app.app_context():
        task = db.session.get(Task, verify_id)
        task.form_data = {**task.form_data, "findings": "Đã đổi: Lò Văn Khuất đến nhà."}
        db.session.commit()
        db.session.remove()
    assert supervisor_view()["data"]["findings"] == "[đã ẩn]"
    # Taking the mark back is audited; a second time there is nothing to take back.
    assert client.delete(f"{url}?task_id={verify_id}&field=findings", headers=officer).status_code == 204
    assert client.delete(f"{url}?task_id={verify_id}&field=findings", headers=officer).status_code == 404
    with app.app_context():
        actions = [r.action for r in db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id))]
        db.session.remove()
    assert "text_release_revoked" in actions


def test_stamp_choices_are_checked(app):
    case_id = open_case(app)
    officer = kit.bearer(kit.api_token(app, "canbo"))
    client = app.test_client()
    public = client.get(f"/api/v1/cases/{case_id}/dossier.pdf?level=cong_khai", headers=officer)
    assert public.status_code == 422  # a case's copy is never public
    weird = client.get(f"/api/v1/cases/{case_id}/dossier.pdf?recipients=" + "x" * 301, headers=officer)
    assert weird.status_code == 422
    web = client_for(app, "canbo")
    assert web.get(f"/cases/{case_id}/dossier.pdf?level=cong_khai").status_code == 400
    assert web.get(f"/cases/{case_id}/dossier.pdf?recipients=a%E2%80%AEb").status_code == 400
    ok = web.get(f"/cases/{case_id}/dossier.pdf?level=noi_bo&recipients=UBND%20x%C3%A3")
    assert ok.status_code == 200 and ok.mimetype == "application/pdf"


def db_task(app, case_id: int, form: str) -> int:
    with app.app_context():
        task_id = db.session.scalar(select(Task.id).where(Task.case_id == case_id, Task.form == form))
        db.session.remove()
    return task_id


def test_the_case_page_marks_a_text_releasable_and_shows_the_mark(app):
    case_id = open_case(app, stop_at="initial_assessment")
    verify = db_task(app, case_id, "verification")
    officer, supervisor = client_for(app, "canbo"), client_for(app, "giamsat")
    page = officer.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Đánh dấu nội dung được phép cung cấp" in page and 'value="findings"' in page
    assert 'value="informant.notes"' not in page  # the informant's texts are never offered
    findings = "Đã xác minh tại nhà và trường: thông tin có cơ sở."
    assert findings not in supervisor.get(f"/cases/{case_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = officer.post(f"/cases/{case_id}/releases", data={"csrf_token": token, "task_id": str(verify),
                                                            "field": "findings", "reason": "Sở cần nắm"})
    assert done.status_code == 303
    seen = supervisor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert findings in seen and "được đánh dấu được phép cung cấp bởi canbo" in seen and "Sở cần nắm" in seen
    assert "Bỏ đánh dấu" not in seen  # the supervisor sees the mark, not the controls
    # A field that is not a free text: a message on the case page, nothing saved.
    wrong = officer.post(f"/cases/{case_id}/releases", data={"csrf_token": token, "task_id": str(verify),
                                                             "field": "has_basis"}, follow_redirects=True)
    assert "không phải là một trường văn bản tự do" in wrong.get_data(as_text=True)
    # The supervisor may not mark; taking the mark back hides the text again.
    assert supervisor.post(f"/cases/{case_id}/releases", data={
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', seen).group(1), "task_id": str(verify),
        "field": "sources"}).status_code == 403
    assert officer.post(f"/cases/{case_id}/releases/revoke", data={"csrf_token": token, "task_id": str(verify),
                                                                   "field": "findings"}).status_code == 303
    assert findings not in supervisor.get(f"/cases/{case_id}").get_data(as_text=True)


def test_attachment_names_and_descriptions_are_free_texts_in_the_dossier(app, tmp_path):
    case_id = open_case(app)
    with app.app_context():
        db.session.add(Attachment(case_id=case_id, file_name="Lò Văn Khuất 0900765432.pdf", size=10,
                                  content_type="application/pdf", sha256="0" * 64, description="Bản Pá Khuất",
                                  uploaded_by="canbo", uploaded_at=clock.now()))
        db.session.commit()
        db.session.remove()
    officer = kit.bearer(kit.api_token(app, "canbo"))
    client = app.test_client()
    full = _pdf_text(client.get(f"/api/v1/cases/{case_id}/dossier.pdf", headers=officer).data, tmp_path)[0]
    assert "Lò Văn Khuất 0900765432.pdf" in full and "Bản Pá Khuất" in full
    redacted = _pdf_text(client.get(f"/api/v1/cases/{case_id}/dossier.pdf?redact=true", headers=officer).data,
                         tmp_path)[0]
    theirs = _pdf_text(client_for(app, "giamsat").get(f"/cases/{case_id}/dossier.pdf").data, tmp_path)[0]
    for text in (redacted, theirs):
        assert "Lò Văn Khuất" not in text and "0900765432" not in text and "Bản Pá Khuất" not in text
        assert "0" * 20 in text  # the file is still listed, by its checksum
