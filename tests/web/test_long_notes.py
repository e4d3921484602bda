"""A long free text folds behind "xem thêm" on the case page and in the step page's history (both databases): the
first ~300 characters, cut at a word boundary and NFC-safe (web.formrender.fold), with the "xem thêm" / "thu gọn"
toggle as <details>/<summary> (no JavaScript), the whole text still in the page, English through the catalogue; a
short text is shown as it is; the dossier PDF holds the whole text. In Debian's chromium: closed, then opened by
keyboard with JavaScript off, and axe-core finds nothing serious on the page."""

from __future__ import annotations

import html
import io
import re
import unicodedata
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select, update

from engine import clock
from engine.models import Task, User
from tests.web.browser_kit import chromium, serve, sign_in
from tests.web.casework_kit import client_for, open_case, ready_task
from web import demo
from web.extensions import db
from web.formrender import FOLD_AT, fold

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SENTENCE = "Cháu được cô giáo chủ nhiệm đưa về nhà bà ngoại, gia đình đồng ý phối hợp theo dõi hằng tuần. "
ENDING = "Hết biên bản xác minh, đã đọc lại cho những người có mặt nghe."
LONG = (SENTENCE * 60)[:4900].rstrip() + " " + ENDING  # about 5,000 characters
SHORT = "Đã xác minh tại nhà và trường: thông tin có cơ sở."


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def verified(app, findings: str) -> tuple[int, int]:
    """A case whose verification was recorded with `findings`; its id and the next open step's."""
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    with app.app_context():
        engine = app.extensions["case56_engine"]
        officer = demo.cast(db.session).actors["canbo"]
        engine.complete_task(db.session, officer, task_id,
                             demo.sample("verification", clock.now(), findings=findings))
        following = db.session.scalar(select(Task.id).where(Task.case_id == case_id, Task.state == "ready")
                                      .order_by(Task.id))
        db.session.remove()
    assert following is not None
    return case_id, following


def folds(body: str) -> list[str]:
    return re.findall(r'<details class="fold">.*?</details>', body, flags=re.S)


# -- the cut -------------------------------------------------------------------------------------------------

def test_the_head_is_cut_at_a_word_boundary_and_never_inside_a_letter():
    assert fold(SHORT) is None and fold("x" * (FOLD_AT + 50)) is None and fold(None) is None
    head = fold(LONG)
    assert head is not None and FOLD_AT // 2 <= len(head) <= FOLD_AT
    assert LONG.startswith(head) and LONG[len(head)] == " "  # a whole word ends the head
    # Decomposed input (NFD, as some keyboards send it) gives the NFC head; a run without spaces is cut between
    # letters, never between a letter and its combining mark.
    decomposed = unicodedata.normalize("NFD", LONG)
    assert fold(decomposed) == head
    marks = "a\u0301\u0323" * 300  # "á" with a dot below that NFC leaves as a letter plus a mark
    cut = fold(marks)
    assert cut is not None and len(cut) <= FOLD_AT and unicodedata.category(marks[len(cut)])[0] == "L"
    # Many short lines fold too, after the sixth.
    assert fold("\n".join(f"Dòng {n}" for n in range(12))) == "\n".join(f"Dòng {n}" for n in range(6))


# -- the pages -----------------------------------------------------------------------------------------------

def test_a_long_note_folds_on_the_case_page_and_in_the_step_history(app):
    case_id, next_id = verified(app, LONG)
    short_case, short_next = verified(app, SHORT)
    officer = client_for(app, "canbo")
    head = fold(LONG)
    for path in (f"/cases/{case_id}", f"/tasks/{next_id}"):
        body = text(officer.get(path))
        [folded] = [f for f in folds(body) if ENDING in f]
        summary = folded.split("<summary>")[1].split("</summary>")[0]
        assert f'<span class="fold-head">{head}…</span>' in summary
        assert '<span class="fold-more">xem thêm</span><span class="fold-less">thu gọn</span>' in summary
        assert ENDING not in summary  # the rest only once opened ...
        assert f'<div class="fold-all">{LONG}</div>' in folded  # ... and the whole text is in the page
    for path in (f"/cases/{short_case}", f"/tasks/{short_next}"):
        body = text(officer.get(path))
        assert f'<dd class="pre">{SHORT}</dd>' in body and not folds(body) and "xem thêm" not in body

    with app.app_context():
        db.session.execute(update(User).where(User.username == "canbo").values(locale="en"))
        db.session.commit()
        db.session.remove()
    body = text(officer.get(f"/cases/{case_id}"))
    assert '<span class="fold-more">show more</span><span class="fold-less">show less</span>' in body
    assert "xem thêm" not in body and LONG in body


def test_the_dossier_pdf_holds_the_whole_note(app):
    case_id, _next = verified(app, LONG)
    pdf = client_for(app, "canbo").get(f"/cases/{case_id}/dossier.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages]
    # The note runs over pages: read each page's body, without the running head (case number, classification
    # mark) and foot (the classification's scope, page number) the text flows around.
    bodies = []
    for page in pages:
        lines = unicodedata.normalize("NFC", page).splitlines()
        if "MẬT" in lines[:3]:
            lines = lines[lines.index("MẬT") + 1:]
        foot = next((i for i, line in enumerate(lines) if line.startswith("Mức độ mật")), len(lines))
        bodies.append("".join("".join(lines[:foot]).split()))
    assert "".join(LONG.split()) in "".join(bodies)
    assert "xem thêm" not in "".join(pages)


# -- in a browser --------------------------------------------------------------------------------------------

AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .map(v => ({id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(' '))}))"""


@pytest.mark.browser
def test_the_fold_opens_by_keyboard_without_javascript_and_passes_axe(app):
    pytest.importorskip("playwright.sync_api")
    if not AXE.exists():
        pytest.fail("axe-core is missing: make venv (npm ci) installs the pinned version")
    case_id, _next = verified(app, LONG)
    with serve(app) as base, chromium() as browser:
        context, page = sign_in(browser, base, "canbo", java_script_enabled=False)
        page.goto(f"{base}/cases/{case_id}")
        page.locator("details.history:has(details.fold) > summary").first.click()  # the verification's form
        fold_box = page.locator("details.fold", has_text=ENDING)
        toggle = fold_box.locator("summary")
        assert fold_box.locator(".fold-more").is_visible() and not fold_box.locator(".fold-less").is_visible()
        assert not fold_box.locator(".fold-all").is_visible()
        toggle.focus()
        page.keyboard.press("Enter")
        assert fold_box.get_attribute("open") is not None
        assert fold_box.locator(".fold-all").is_visible() and fold_box.locator(".fold-less").is_visible()
        assert not fold_box.locator(".fold-head").is_visible()  # the text is not shown twice
        page.keyboard.press("Enter")
        assert fold_box.get_attribute("open") is None
        context.close()

        # axe runs through the DevTools protocol: JavaScript on, the fold closed, then open.
        context, page = sign_in(browser, base, "canbo")
        page.goto(f"{base}/cases/{case_id}")
        page.evaluate(AXE.read_text(encoding="utf-8"))
        for state in ("closed", "open"):
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)"
                          if state == "open" else "() => document.querySelectorAll('details.history')"
                          ".forEach(d => d.open = true)")
            found = page.evaluate(AXE_RUN)
            blocking = [v for v in found if v["impact"] in ("serious", "critical")]
            about_fold = [v for v in found if any("fold" in t for t in v["targets"])]
            assert blocking == [] and about_fold == [], (state, found)
        context.close()
