"""The case dossier PDF: its text (diacritics intact, every stored form value, late marks), redaction, the
English copy, the web route's permissions and audit, the CLI commands, the path drawn on the diagram."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
from sqlalchemy import select

import forms
from engine import casefile, clock, path
from engine.models import Attachment, AuditEntry, Case, Task, User
from web import demo
from web.extensions import db
from web.pdf import dossier, toolkit

PAYLOAD = "<script>alert('x')</script> & <b>đậm</b>"
CHILD_ADDRESS = "Tổ 5, phường Phan Đình Phùng"
INFORMANT = "Trần Thị Bình"


def _text(pdf: bytes) -> tuple[str, list[str]]:
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    return "\n".join(pages), pages


def _flat(text: str) -> str:
    return " ".join(text.split())


def _open(engine: Any, session: Any, days_ago: float = 6, **mau01: Any) -> Case:
    people = demo.cast(session)
    report = demo.sample("mau_01", clock.now() - timedelta(days=days_ago), **mau01)
    return engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)


def _closed_case(engine: Any, session: Any) -> Case:
    """Received six days ago, crime suspected, emergency with separation, driven to closure: every kind of form,
    and the steps bound to the 12-hour limits completed days late."""
    case = _open(engine, session, crime_suspected=True)
    demo.drive(engine, session, case, demo.cast(session),
               choices={"mau_02": {"emergency": True, "danger_description": PAYLOAD}})
    session.refresh(case)
    assert case.status == "closed"
    return case


def _values(entries: list[dict[str, Any]]) -> list[str]:
    """Every non-empty display value of a rendered form, nested groups and list items included."""
    out: list[str] = []
    for entry in entries:
        if "items" in entry:
            for item in entry["items"]:
                out += _values(item)
        elif "extra" in entry:
            out += _values(entry.get("fields") or [])
        elif entry.get("display"):
            out.append(entry["display"])
    return out


def test_dossier_content_redaction_and_english(app, case_engine):
    with app.app_context():
        session = db.session
        case = _closed_case(case_engine, session)
        inspector = demo.cast(session).actors["thanhtra"]
        casefile.open_file(session, inspector, case.id)  # a read, to be listed in the audit trail
        blob = b"%PDF-1.4 giay chung nhan"
        session.add(Attachment(case_id=case.id, file_name="Giấy chứng nhận thương tích.pdf",
                               content_type="application/pdf", size=len(blob), sha256=hashlib.sha256(blob).hexdigest(),
                               uploaded_by="canbo", uploaded_at=clock.now()))
        session.commit()
        file = casefile.load(session, case.id)
        late = [e for e in file.timeline if e.status == "done_late"]
        assert late, "the case should have late steps"

        pdf = dossier.build(session, case.id, dossier.Options(actor=inspector, generated_by="Vũ Văn Thanh Tra"))
        text, pages = _text(pdf)
        flat = _flat(text)
        # Vietnamese with its diacritics, in NFC, as extracted from the embedded DejaVu Sans.
        for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Nguyễn Văn An",
                         "Họ và tên trẻ", "HỒ SƠ VỤ VIỆC BẢO VỆ TRẺ EM", "Trẻ em bị xâm hại", "MỤC LỤC",
                         "Phường Phan Đình Phùng (demo)", case.number, "Đã đóng", INFORMANT, CHILD_ADDRESS):
            assert expected in flat, expected
        # Every value of every stored form, as the form version it was stored under displays it.
        for task in file.forms():
            rendered = forms.render(task.form, casefile.redact(task.form_data, task.form, inspector),
                                    version=task.form_version)
            values = _values(rendered["fields"])
            assert values, task.form
            for value in values:
                assert _flat(value) in flat, (task.form, value)
            assert _flat(rendered["title"].upper()) in flat or _flat(rendered["title"]) in flat
        # Script payloads come out as the literal text that was typed.
        assert _flat(PAYLOAD) in flat
        # Signature blocks: the full name of who completed each form.
        for name in ("Nguyễn Thị Tiếp Nhận", "Trần Văn Cán Bộ", "Lê Văn Chủ Tịch", "Trạm Y tế phường"):
            assert name in flat
        # The late steps: one "TRỄ" per late step, in red on the timeline page.
        assert text.count("TRỄ") == len(late)
        timeline = next(i for i, page in enumerate(pages) if "TRỄ" in page)
        red = pypdf.PdfReader(io.BytesIO(pdf)).pages[timeline].get_contents().get_data()
        assert b".690196 0 .12549 rg" in red  # LATE = #b00020
        # The rule each deadline counts from, with the article, marked when the number is still to confirm.
        assert _flat(case_engine.rules["verify"].label_vi) in flat and "[cần xác nhận" in flat
        # Attachments, audit trail, page numbers, table of contents, metadata.
        assert "Giấy chứng nhận thương tích.pdf" in flat and hashlib.sha256(blob).hexdigest()[:20] in flat
        assert "Xem hồ sơ" in flat and "Vũ Văn Thanh Tra (thanhtra)" in flat
        assert all(f"Trang {n}/{len(pages)}" in page for n, page in enumerate(pages, start=1))
        toc = _flat(pages[1])
        number = int(re.search(r"II\. Diễn biến và thời hạn các bước[ .]*(\d+)", toc).group(1))
        assert "II. DIỄN BIẾN VÀ THỜI HẠN CÁC BƯỚC" in pages[number - 1]
        meta = pypdf.PdfReader(io.BytesIO(pdf)).metadata
        assert meta.title == f"Hồ sơ vụ việc bảo vệ trẻ em {case.number}"
        assert meta.author == "Ủy ban nhân dân Phường Phan Đình Phùng (demo)"
        assert "56/2017/NĐ-CP" in meta.subject

        # Every page of the full copy carries its confidentiality stamp (Decree 56 Art. 24.3), the default one here.
        assert all("Mức độ mật: Mật" in _flat(page) and "Phạm vi cung cấp" in _flat(page) for page in pages)

        # The redacted copy: basic data only (forms/kit/sensitivity.py): no informant identity, none of the child's
        # private items (Art. 33), no free text; the case itself, its steps and time limits are there.
        redacted_pages = _text(dossier.build(session, case.id, dossier.Options(redact=True, actor=inspector)))[1]
        redacted = _flat("\n".join(redacted_pages))
        for secret in (INFORMANT, "0912345678", CHILD_ADDRESS, "Nguyễn Văn An", "Tại nhà", "Hàng xóm, gọi Tổng đài 111",
                       _flat(PAYLOAD)):
            assert secret not in redacted, secret
        assert "[đã ẩn]" in redacted and "BẢN ĐÃ ẨN THÔNG TIN" in redacted and case.number in redacted
        assert _flat(case_engine.rules["verify"].label_vi) in redacted
        assert all("Mức độ mật: Hạn chế" in _flat(page) for page in redacted_pages)
        # A supervisor's copy never names the informant (engine.access.can_see_informant) and withholds free texts
        # (sensitive), but keeps the child's private items, which their review is about.
        supervisor = demo.cast(session).actors["giamsat"]
        theirs = _flat(_text(dossier.build(session, case.id, dossier.Options(actor=supervisor)))[0])
        assert INFORMANT not in theirs and _flat(PAYLOAD) not in theirs and "Tại nhà" not in theirs
        assert "Nguyễn Văn An" in theirs and CHILD_ADDRESS in theirs and "[đã ẩn]" in theirs

        # The English copy: translated strings, English form labels and step titles; data stays as typed.
        english, en_pages = _text(dossier.build(session, case.id, dossier.Options(actor=inspector), locale="en"))
        english = _flat(english)
        for expected in ("SOCIALIST REPUBLIC OF VIET NAM", "CHILD PROTECTION CASE DOSSIER", "CONTENTS", "LATE",
                         forms.describe("mau_01", locale="en")["title"].upper(), "Nguyễn Văn An",
                         case_engine.rules["verify"].label_en.split(" (")[0]):
            assert _flat(expected) in english, expected
        assert f"Page 1/{len(en_pages)}" in english and "Trang 1/" not in english
        assert english.count("LATE") >= len(late)


def test_web_download_permissions_and_audit(app, case_engine, login, monkeypatch, tmp_path):
    with app.app_context():
        case = _open(case_engine, db.session)
        demo.drive(case_engine, db.session, case, demo.cast(db.session), stop_at="draft_plan")
        case_id = db.session.get(Case, case.id).id
        db.session.remove()
    url = f"/cases/{case_id}/dossier.pdf"

    def downloads() -> list[AuditEntry]:
        with app.app_context():
            rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "dossier_downloaded")
                                      .order_by(AuditEntry.id)).all()
            db.session.expunge_all()
            return rows

    assert app.test_client().get(url).status_code == 302  # to the log-in page

    inspector = app.test_client()
    login(inspector, "thanhtra")
    response = inspector.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and "no-store" in response.headers["Cache-Control"]
    assert "attachment" in response.headers["Content-Disposition"]
    assert INFORMANT in _flat(_text(response.data)[0])
    response = inspector.get(url + "?redact=1")
    assert response.status_code == 200
    assert INFORMANT not in _flat(_text(response.data)[0])
    rows = downloads()
    assert [(r.actor, r.case_id, r.details["redact"], r.details["via"]) for r in rows] == [
        ("thanhtra", case_id, False, "web"), ("thanhtra", case_id, True, "web")]
    assert inspector.get(url + "?redact=maybe").status_code == 400
    assert inspector.get(f"/cases/{case_id + 1000}/dossier.pdf").status_code == 404
    assert inspector.get("/cases/99999999999/dossier.pdf").status_code == 404
    assert len(downloads()) == 2  # refusals and bad input record nothing

    for username, status in (("canbo", 200), ("chutich", 200), ("giamsat", 200), ("canbo2", 404),
                             ("chutich2", 404), ("tiepnhan", 403), ("truonghoc", 403), ("quantri", 403)):
        client = app.test_client()
        login(client, username)
        assert client.get(url).status_code == status, username
    assert [r.actor for r in downloads()][2:] == ["canbo", "chutich", "giamsat"]

    # The user's language decides the dossier's.
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "canbo")).locale = "en"
        db.session.commit()
    english = app.test_client()
    login(english, "canbo")
    text = _flat(_text(english.get(url).data)[0])
    assert "Page 1/" in text and "SOCIALIST REPUBLIC OF VIET NAM" in text
    assert downloads()[-1].details["lang"] == "en"

    # A server without the font: a clear message naming the Debian package, not a traceback; nothing audited.
    count = len(downloads())
    monkeypatch.setattr(toolkit, "FONT_DIR", tmp_path)
    toolkit.register_fonts.cache_clear()
    try:
        response = inspector.get(url)
        assert response.status_code == 503 and "fonts-dejavu-core" in response.get_data(as_text=True)
    finally:
        monkeypatch.undo()
        toolkit.register_fonts.cache_clear()
    assert len(downloads()) == count


def test_cli_dossier_and_batch(app, case_engine, tmp_path):
    with app.app_context():
        closed = _closed_case(case_engine, db.session)
        still_open = _open(case_engine, db.session, days_ago=1)
        closed_number, closed_id, open_number = closed.number, closed.id, still_open.number
        closed_on = clock.local(closed.closed_at).date()
        db.session.remove()
    runner = app.test_cli_runner()

    out = tmp_path / "one.pdf"
    result = runner.invoke(args=["dossier", closed_number, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert closed_number in result.output and INFORMANT in _flat(_text(out.read_bytes())[0])
    result = runner.invoke(args=["dossier", str(closed_id), "-o", str(out), "--redact", "--lang", "en"])
    assert result.exit_code == 0, result.output
    text = _flat(_text(out.read_bytes())[0])
    assert "Page 1/" in text and INFORMANT not in text and "[đã ẩn" in text
    result = runner.invoke(args=["dossier", "T99-X99-2026-9999", "-o", str(out)])
    assert result.exit_code != 0 and "Không tìm thấy hồ sơ" in result.output

    folder = tmp_path / "batch"
    day = closed_on.strftime("%d/%m/%Y")
    result = runner.invoke(args=["dossier-batch", "--from", day, "--to", day, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [f"{closed_number}.pdf"]  # the open case is not exported
    assert open_number not in result.output
    before = (closed_on - timedelta(days=3)).strftime("%d/%m/%Y")
    result = runner.invoke(args=["dossier-batch", "--from", before, "--to", before, "-o", str(tmp_path / "none")])
    assert result.exit_code == 0 and not list((tmp_path / "none").iterdir())
    for bad in (["--from", "31/02/2026", "--to", day], ["--from", day, "--to", before], ["--from", "2026-01-01",
                                                                                        "--to", day]):
        result = runner.invoke(args=["dossier-batch", *bad, "-o", str(folder)])
        assert result.exit_code == 2, bad
        assert "dd/mm/yyyy" in result.output or "--from" in result.output

    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "dossier_downloaded")
                                  .order_by(AuditEntry.id)).all()
        assert [(r.actor, r.case_id, r.details["redact"], r.details["lang"], r.details["batch"]) for r in rows] == [
            ("cli", closed_id, False, "vi", False), ("cli", closed_id, True, "en", False),
            ("cli", closed_id, False, "vi", True)]


def _task(step: str, state: str, minutes: int) -> Task:
    moment = clock.now() - timedelta(hours=10) + timedelta(minutes=minutes)
    return Task(step=step, state=state, completed_at=moment if state == "completed" else None)


def _path(definition, tasks):
    taken = path.path_taken(definition, tasks)  # the one path computation (engine/path.py) the dossier draws
    return taken.done, taken.current, taken.flows


def test_path_taken_follows_the_case(case_engine):
    definition = case_engine.registry.current
    done_steps = ["receive", "verify", "initial_assessment", "detailed_assessment", "needs_meeting", "draft_plan",
                  "draft_decision", "approve_plan", "carry_out_activity", "review", "end_plan"]
    tasks = [_task(step, "completed", i) for i, step in enumerate(done_steps)]
    done, current, flows = _path(definition, tasks)
    assert {"Start_receive", "Task_verify", "Task_end_plan", "End_closed", "Sub_intervention",
            "End_no_crime", "Gateway_has_basis"} <= done
    assert not current and not {"End_no_basis", "Task_no_basis_signoff", "Task_emergency_decision",
                                "End_police", "Timer_verify"} & done
    assert flows
    # A review that sent the case back to a new plan: the close end is not reached, the loop is.
    tasks = [_task(step, "completed", i) for i, step in enumerate(done_steps[:-1])] + [_task("draft_plan", "ready", 99)]
    done, current, _flows = _path(definition, tasks)
    assert current == {"Task_draft_plan"} and "End_closed" not in done and "Gateway_merge_replan" in done
    # Without basis: the sign-off and its end, nothing of the assessment.
    tasks = [_task(step, "completed", i) for i, step in enumerate(("receive", "verify", "no_basis_signoff"))]
    done, _current, _flows = _path(definition, tasks)
    assert {"Task_no_basis_signoff", "End_no_basis"} <= done and "Task_initial_assessment" not in done


def test_text_is_escaped_and_normalised():
    decomposed = "Nguye\u0302\u0303n"  # "Nguyễn" in NFD
    assert toolkit.clean(decomposed) == "Nguyễn" and toolkit.clean("a\x00b\x1bc\ud800") == "abc?"
    assert toolkit.markup("<script>&x</script>\nb") == "&lt;script&gt;&amp;x&lt;/script&gt;<br/>b"
    lines = toolkit.wrap_text("x" * 300, toolkit.FONT, 8, 100)
    assert len(lines) > 2 and "".join(lines) == "x" * 300


def test_missing_font_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(toolkit, "FONT_DIR", tmp_path)
    toolkit.register_fonts.cache_clear()
    try:
        with pytest.raises(toolkit.FontMissing, match="fonts-dejavu-core"):
            toolkit.register_fonts()
    finally:
        monkeypatch.undo()
        toolkit.register_fonts.cache_clear()
        toolkit.register_fonts()


def test_first_pages_render_to_png(app, case_engine, tmp_path):
    """Poppler (another PDF engine than the extractor) renders the first pages; a person looks at them with
    `python bench/dossier.py --png DIR`."""
    assert shutil.which("pdftoppm"), "pdftoppm missing: apt-get install -y poppler-utils"
    with app.app_context():
        case = _open(case_engine, db.session)
        demo.drive(case_engine, db.session, case, demo.cast(db.session), stop_at="review")
        pdf = dossier.build(db.session, case.id)
    path = tmp_path / "d.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "3", str(path), str(tmp_path / "p")],
                   check=True, capture_output=True, timeout=60)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == 3 and all(p.stat().st_size > 3000 for p in images)
    assert all(Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in images)


def test_long_text_and_long_lists_run_over_pages(app, case_engine):
    """A 10,000-character value and a 40-activity plan split across pages instead of stopping the document."""
    long_text = "\n".join(f"Dòng {n}: trẻ kể lại sự việc, <i>không</i> muốn về nhà & sợ hãi." for n in range(160))
    long_text = long_text[:10_000]
    day = clock.local(clock.now()).date()
    plan = [{"measure": f"Hoạt động {n}: " + "thăm gia đình, tư vấn tâm lý " * 12, "level": "support",
             "assignee": "truonghoc", "responsible_body": "UBND phường", "cost": 0, "start": day.isoformat(),
             "end": (day + timedelta(days=20)).isoformat()}
            for n in range(40)]
    with app.app_context():
        case = _open(case_engine, db.session, days_ago=1,
                     child={"full_name": "Nguyễn Văn An", "sex": "male", "estimated_age": 9,
                            "current_condition": long_text})
        demo.drive(case_engine, db.session, case, demo.cast(db.session), stop_at="draft_decision",
                   choices={"mau_04": {"activities": plan}})
        officer = demo.cast(db.session).actors["canbo"]  # sees every class: the text is not withheld
        text, pages = _text(dossier.build(db.session, case.id, dossier.Options(actor=officer)))
    flat = _flat(text)
    # Without the running header and footer (the stamp, the protection line) of each page, the value reads through.
    furniture = re.compile(r"^(Hồ sơ T01-.*|MẬT|Mức độ mật: .*|56/2017/NĐ-CP\)|Thông tin cá nhân của trẻ em .*|"
                           r"cấp ngoài phạm vi trên\.|Trang \d+/\d+)$")
    body = _flat("\n".join(line for page in pages for line in page.splitlines() if not furniture.match(line.strip())))
    assert _flat(long_text) in body
    condition = [i for i, page in enumerate(pages) if "Dòng 0:" in page or "Dòng 150:" in page]
    assert condition[-1] > condition[0]
    assert all(f"Hoạt động {n}:" in flat for n in range(40))
    mau04 = [i for i, page in enumerate(pages) if "Hoạt động 0:" in page or "Hoạt động 39:" in page]
    assert len(pages) > 8 and mau04[-1] > mau04[0]  # the plan's table runs over several pages
