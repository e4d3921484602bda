"""Issue 17, "forms that behave", in headless Debian chromium (Playwright): the needs meeting's participants
(a list of rows) get a row added and one removed, with JavaScript (web/static/case56-forms.js: no page load —
a marker set on the window survives and the navigation count stays 1) and without it (each button a server
round trip that lands on the row), and the step is completed both ways with the rows as left. The history
beside the step shows the report's father and mother as labelled sub-lists and a 5,000-character note wrapped
inside its column: screenshots test-artifacts/screenshots/forms-history.png and forms-history-note.png.

The case page and the inspector's case page render the same (forms-case-page.png, forms-inspector.png).
Last, the supervisor's empty acknowledgement: its error summary is in view at the top of the page after the
submit, focused, and links to the note far below (screenshot forms-ack-error.png).

SQLite only, one server and one browser for the module's single test: the PostgreSQL paths of the same pages
are covered by the test-client tests in test_forms_on_steps.py.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from engine import clock
from tests.web.browser_kit import chromium, serve, sign_in
from tests.web.casework_kit import open_case, ready_task, task_of
from web import demo
from web.extensions import db

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LONG_NOTE = "Trẻ kể lại sự việc " + "x" * 5000
NEW_NAME = "Phạm Thị Giáo Viên"
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(app):
    with serve(app) as base:
        yield base


def _meeting_with_a_draft(app) -> int:
    """A case at the needs meeting, its report naming father and mother and holding a long note, the minute
    drafted with the demo's three participants (so the form completes once the rows are as wanted)."""
    child = copy.deepcopy(demo.sample("mau_01", clock.now())["child"])
    child.update(father={"name": "Nguyễn Văn Cha", "age": 41, "occupation": "Lái xe"},
                 mother={"name": "Lê Thị Mẹ", "age": 38}, current_condition=LONG_NOTE)
    case_id = open_case(app, stop_at="needs_meeting", child=child)
    task_id = ready_task(app, case_id, "needs_meeting")
    with app.app_context():
        people = demo.cast(db.session)
        draft = demo.sample("needs_meeting", clock.now())
        app.extensions["case56_engine"].save_draft(db.session, people.actors["canbo"], task_id, draft)
        db.session.remove()
    return task_id


def _sign_in(browser, base: str, *, javascript: bool, username: str = "canbo"):
    return sign_in(browser, base, username, java_script_enabled=javascript)  # each role has its own home page


def _pick_category(page, index: int, code: str) -> None:
    radio = page.locator(f"#f-participants-{index}-category-{code}")
    if radio.count():
        radio.check()
    else:
        page.select_option(f"#f-participants-{index}-category", code)


def _names(page) -> list[str]:
    return [page.input_value(f"#f-participants-{i}-name")
            for i in range(page.locator("#f-participants > fieldset.row").count())]


def _complete(page, base: str) -> None:
    page.get_by_role("button", name="Hoàn thành", exact=True).click()
    # Without JavaScript the address may still carry a row's fragment, which a redirect keeps.
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/(tasks/\d+/done)?(#[\w-]*)?$"))
    assert "Đã hoàn thành bước" in page.locator("p.flash").first.inner_text()


def _with_javascript(browser, base: str, app) -> None:
    task_id = _meeting_with_a_draft(app)
    context, page = _sign_in(browser, base, javascript=True)
    page.goto(f"{base}/tasks/{task_id}")
    page.evaluate("window.__case56Marker = 'still-here'")
    url = page.url
    rows = page.locator("#f-participants > fieldset.row")
    assert rows.count() == 3
    page.locator("#f-participants > button.add-row").click()
    assert rows.count() == 4
    # The new row: blank, named and labelled as the server would render row 4, its first field focused.
    assert page.get_attribute("#f-participants-3-name", "name") == "participants.3.name"
    assert page.input_value("#f-participants-3-name") == ""
    assert page.locator("label[for='f-participants-3-name']").count() == 1
    assert rows.nth(3).locator(":scope > legend").inner_text() == "Dòng 4"
    assert rows.nth(3).locator("button[name='_remove']").get_attribute("value") == "participants.3"
    assert page.evaluate("document.activeElement.id").startswith("f-participants-3-")
    _pick_category(page, 3, "responsible_body")
    page.fill("#f-participants-3-name", NEW_NAME)
    page.fill("#f-participants-3-organisation", "Trường tiểu học")
    # Remove row 1: the others move up and are renumbered (names, ids, labels, legends, buttons).
    rows.nth(0).get_by_role("button", name="Xoá dòng 1").click()
    assert rows.count() == 3
    assert _names(page) == ["Đinh Văn Tổ Trưởng", "Nguyễn Thị Mẹ", NEW_NAME]
    assert page.get_attribute("#f-participants-2-name", "name") == "participants.2.name"
    assert page.locator("#f-participants-3-name").count() == 0
    assert [rows.nth(i).locator(":scope > legend").inner_text() for i in range(3)] == ["Dòng 1", "Dòng 2", "Dòng 3"]
    assert rows.nth(2).get_by_role("button", name="Xoá dòng 3").count() == 1
    # No page load happened: the marker on the window survives, one navigation entry, same address.
    assert page.evaluate("window.__case56Marker") == "still-here"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.url == url
    # The history beside the step: father and mother as labelled sub-lists, the long note wrapped in its column.
    history = page.locator("aside")
    history.locator("details.history", has_text="Mẫu số 01").first.evaluate("d => d.open = true")
    father = history.locator("dt.nested", has_text="Cha").first
    assert father.is_visible()
    value = history.locator("dd.pre", has_text="Trẻ kể lại sự việc").first
    box, column = value.bounding_box(), history.bounding_box()
    assert box["width"] >= 200 and box["x"] + box["width"] <= column["x"] + column["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for name in ("Họ và tên", "Tuổi", "Nghề nghiệp"):
        label = history.locator("dd.nested dt", has_text=name).first
        assert label.bounding_box()["width"] > 60, name  # a label, not one letter per line
    SHOTS.mkdir(parents=True, exist_ok=True)
    value.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SHOTS / "forms-history-note.png"))
    father.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(SHOTS / "forms-history.png"))
    _complete(page, base)
    stored = task_of(app, task_id)
    assert [p["name"] for p in stored.form_data["participants"]] == ["Đinh Văn Tổ Trưởng", "Nguyễn Thị Mẹ", NEW_NAME]
    context.close()
    _case_pages(browser, base, app, task_id)


def _without_javascript(browser, base: str, app) -> None:
    task_id = _meeting_with_a_draft(app)
    context, page = _sign_in(browser, base, javascript=False)
    path = f"{base}/tasks/{task_id}"
    page.goto(path)
    rows = page.locator("#f-participants > fieldset.row")
    assert rows.count() == 3
    # Each button is a round trip; the page comes back on the row it is about (the fragment of formaction).
    page.locator("#f-participants > button.add-row").click()
    page.wait_for_url(f"{path}#f-participants-3")
    assert rows.count() == 4 and page.input_value("#f-participants-3-name") == ""
    _pick_category(page, 3, "responsible_body")
    page.fill("#f-participants-3-name", NEW_NAME)
    rows.nth(0).get_by_role("button", name="Xoá dòng 1").click()
    page.wait_for_url(f"{path}#f-participants")
    assert _names(page) == ["Đinh Văn Tổ Trưởng", "Nguyễn Thị Mẹ", NEW_NAME]
    assert task_of(app, task_id).state == "ready"  # the buttons saved nothing
    _complete(page, base)
    stored = task_of(app, task_id)
    assert [p["name"] for p in stored.form_data["participants"]] == ["Đinh Văn Tổ Trưởng", "Nguyễn Thị Mẹ", NEW_NAME]
    context.close()


def _radios_in_rows(browser, base: str, app) -> None:
    """A row copied from one with a checked radio (Mẫu 04's activity level) leaves that radio checked."""
    task_id = ready_task(app, open_case(app, stop_at="draft_plan"), "draft_plan")
    context, page = _sign_in(browser, base, javascript=True)
    page.goto(f"{base}/tasks/{task_id}")
    page.check("#f-activities-0-level-support")
    page.locator("#f-activities > button.add-row").click()
    assert page.is_checked("#f-activities-0-level-support")
    assert page.get_attribute("#f-activities-1-level-support", "name") == "activities.1.level"
    assert not page.is_checked("#f-activities-1-level-support")
    assert not page.is_checked("#f-activities-1-level-intervention")
    context.close()


def _case_pages(browser, base: str, app, task_id: int) -> None:
    """The same renderer on the case page (officer) and the inspector's case page: the long note wraps inside
    its card, no page scrolls sideways, father and mother are labelled sub-lists."""
    case_id = task_of(app, task_id).case_id
    for username, url, shot in (("canbo", f"/cases/{case_id}", "forms-case-page.png"),
                                ("thanhtra", f"/inspector/cases/{case_id}", "forms-inspector.png")):
        context, page = _sign_in(browser, base, javascript=True, username=username)
        page.goto(f"{base}{url}")
        page.evaluate("document.querySelectorAll('details.history').forEach(d => d.open = true)")
        note = page.locator("dd.pre", has_text="Trẻ kể lại sự việc").first
        card = note.locator("xpath=ancestor::section[1]")
        box, frame = note.bounding_box(), card.bounding_box()
        assert box["width"] >= 200 and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1, username
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), username
        assert page.locator("dt.nested", has_text="Cha").first.is_visible(), username
        page.locator("dt.nested", has_text="Cha").first.evaluate("e => e.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(SHOTS / shot))
        context.close()


def _refused_acknowledgement(browser, base: str) -> None:
    """The supervisor's empty acknowledgement: after the submit the error summary is in view at the top."""
    context, page = _sign_in(browser, base, javascript=True, username="giamsat")
    page.goto(f"{base}/supervisor")
    escalation = page.locator("article.escalation").first
    escalation.locator("summary").click()
    escalation.locator("button.primary").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    box = summary.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + 40 <= page.viewport_size["height"], box
    assert page.evaluate("document.activeElement.id") == "error-summary"
    link = summary.locator("a").first
    assert "Nhận xét" in link.inner_text()
    link.click()  # the link takes the user to the note, far below
    target = page.locator(link.get_attribute("href")).bounding_box()
    assert target is not None and -2 <= target["y"] < page.viewport_size["height"]  # scrolled to it
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "forms-ack-error.png"))
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_rows_with_and_without_javascript_and_the_history_panel(demo_app, server):
    app = demo_app
    with chromium() as browser:
        _with_javascript(browser, server, app)
        _without_javascript(browser, server, app)
        _radios_in_rows(browser, server, app)
        _refused_acknowledgement(browser, server)
