"""Deploying a process version in headless Debian chromium (Playwright), as an administrator does it: upload a
BPMN file changed in a modeler (a step's label renamed, a step added), read the lint result and the diff of
steps, timers and forms, activate it; a report recorded afterwards opens on the new version while a case opened
before keeps the old one, as both case pages say.

SQLite only, like test_e2e_browser.py: the PostgreSQL paths of these pages are covered by the test-client tests
(tests/web/test_admin_processes.py). Screenshots go to test-artifacts/screenshots/process-version-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import Case, ProcessVersion
from tests.processes import variants
from tests.web.browser_kit import chromium, sign_in
from tests.web.test_e2e_browser import SHOTS, Person, _moment
from tests.web.test_e2e_browser import server as server  # noqa: F401  (the live-server fixture)
from web import demo
from web.extensions import db


def _variant() -> str:
    """The shipped file as an analyst changes it in a modeler: Task_verify renamed, a closing step added (with a
    form the shipped file does not use), and verification's limit counted by another rule of the same 12 hours,
    so the diff has a step, a timer and a form to show."""
    text = variants.renamed_and_extended()
    text = text.replace('<spiffworkflow:property name="form" value="needs_meeting"/>\n'
                        '          <spiffworkflow:property name="step" value="closing_note"/>',
                        '<spiffworkflow:property name="form" value="reopen"/>\n'
                        '          <spiffworkflow:property name="step" value="closing_note"/>', 1)
    assert 'value="reopen"' in text
    return text.replace('deadline("verify")', 'deadline("initial_assessment")', 1)


class Admin(Person):
    """An administrator lands on /admin after signing in, not on the inbox."""

    def __init__(self, browser, base: str, username: str = "quantri") -> None:
        self.base = base
        self.context, self.page = sign_in(browser, base, username, landing=f"{base}/admin")


def _shot(person: Person, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    person.page.screenshot(path=str(SHOTS / f"process-version-{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_upload_lint_diff_activate_then_new_cases_on_the_new_version(app, server, case_engine, tmp_path):  # noqa: F811
    # A case opened before the upload, on the shipped version.
    with app.app_context():
        people = demo.cast(db.session)
        old = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                    demo.sample("mau_01", clock.now()))
        old_id, old_version = old.id, old.process_version_id
        db.session.remove()
    variant = tmp_path / "decree56-v2.bpmn"
    variant.write_text(_variant(), encoding="utf-8")

    with chromium() as browser:
        new_version = _deploy(browser, server, variant)
        new_number = _record_report(browser, server)
        _case_pages(browser, server, app, old_id, old_version, new_number, new_version)


def _deploy(browser, base: str, variant: Path) -> int:
    admin = Admin(browser, base)
    page = admin.page
    page.goto(f"{base}/admin/processes")
    page.set_input_files("#file", str(variant))
    page.get_by_role("button", name="Tải lên và kiểm tra").click()
    page.wait_for_url(re.compile(r".*/admin/processes/\d+$"))
    version = int(page.url.rsplit("/", 1)[1])
    assert "Đã tải lên phiên bản" in page.locator("p.flash").first.inner_text()
    # The lint result and the diff against the active version, before anything is activated.
    assert "Không có lỗi" in page.locator("#lint").inner_text()
    diff = page.locator("#diff ul.diff").inner_text()
    assert "+ bước mới Task_closing_note" in diff
    assert f"~ Task_verify title_vi: «Xác minh thông tin» → «{variants.NEW_LABEL}»" in diff
    assert "~ thời hạn của Task_verify: verify → initial_assessment" in diff
    assert "+ biểu mẫu reopen" in diff
    assert "chưa kích hoạt" in page.locator("section.card").first.inner_text()
    _shot(admin, "01-lint-and-diff")
    page.locator("#activate").click()
    page.wait_for_url(f"{base}/admin/processes")
    assert f"Phiên bản {version} đã được kích hoạt" in page.locator("p.flash").first.inner_text()
    row = page.locator("table tbody tr", has=page.locator(f'a[href="/admin/processes/{version}"]'))
    assert "hiện tại" in row.inner_text() and "tải lên bởi quantri" in row.inner_text()
    _shot(admin, "02-activated")
    admin.close()
    return version


def _record_report(browser, base: str) -> str:
    intake = Person(browser, base, "tiepnhan")
    page = intake.page
    page.goto(f"{base}/reports/new")
    page.select_option("#f-_commune", "T01-X01")
    page.select_option("#f-category", "xam_hai")
    page.select_option("#f-channel", "hotline_111")
    page.fill("#f-received_at", _moment(10))
    page.fill("#f-child-full_name", "Lê Thị Cúc")
    page.fill("#f-child-estimated_age", "7")
    page.check("#f-child-sex-female")
    page.fill("#f-child-current_condition", "Bỏ học, thường ở nhà một mình.")
    page.check("#f-informant-consent-true")
    page.fill("#f-informant-name", "Phạm Văn Dũng")
    page.fill("#f-informant-phone", "0987654321")
    page.check("#f-abuse_forms-bao_luc")
    page.get_by_role("button", name="Ghi nhận báo cáo và mở hồ sơ").click()
    page.wait_for_url(f"{base}/reports/*")
    number = page.locator(".big-number").inner_text().strip()
    intake.close()
    return number


def _case_pages(browser, base: str, app, old_id: int, old_version: int, new_number: str, new_version: int) -> None:
    with app.app_context():
        new_id, recorded = db.session.execute(select(Case.id, Case.process_version_id)
                                              .where(Case.number == new_number)).one()
        shipped = db.session.get(ProcessVersion, old_version)
        assert shipped is not None and shipped.file_name == "decree56.bpmn"
        db.session.remove()
    assert recorded == new_version and old_version != new_version
    officer = Person(browser, base, "canbo")
    page = officer.page
    page.goto(f"{base}/cases/{new_id}")
    assert page.locator("dd.process-version").inner_text().startswith(f"#{new_version} · decree56_case · "
                                                                     "decree56-v2.bpmn")
    _shot(officer, "03-new-case-on-new-version")
    page.goto(f"{base}/cases/{old_id}")
    assert page.locator("dd.process-version").inner_text().startswith(f"#{old_version} · decree56_case · "
                                                                     "decree56.bpmn")
    _shot(officer, "04-old-case-keeps-old-version")
    officer.close()
