"""End to end in headless Debian chromium (Playwright): a report recorded by the intake point runs through
verification, assessments, the meeting, the plan and its approval, a partner's activity, the review and the
end of the plan, until the case is closed — every step done through the pages, as people do it.

SQLite only: this drives a real browser against a real server thread; the PostgreSQL paths of the same pages
are covered by the test-client tests. Screenshots of the main pages go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from engine import audit, clock
from engine.models import Case
from tests.web.browser_kit import chromium, serve, sign_in
from web.extensions import db

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(app):
    with serve(app) as base:
        yield base


def _moment(minutes_ago: int = 5) -> str:
    """As an officer types it: dd/mm/yyyy hh:mm, Vietnam time."""
    return clock.local(clock.now() - timedelta(minutes=minutes_ago)).strftime("%d/%m/%Y %H:%M")


def _day(days: int = 0) -> str:
    return (clock.local(clock.now()) + timedelta(days=days)).strftime("%d/%m/%Y")


class Person:
    """One signed-in person with their own browser context (cookies)."""

    def __init__(self, browser, base: str, username: str) -> None:
        self.base = base
        self.context, self.page = sign_in(browser, base, username, landing=f"{base}/")

    def open_step(self, number: str, title: str) -> None:
        self.page.goto(f"{self.base}/")
        row = self.page.locator("table.inbox tbody tr", has_text=number)
        row.get_by_role("link", name=title, exact=True).first.click()
        assert self.page.locator("h1").inner_text().strip() == title

    def complete(self) -> str:
        """Hoàn thành: back to the inbox, or (ea6a2b1, issue 17) to the confirmation page that offers the case's
        next steps this person may do now, one click away."""
        self.page.get_by_role("button", name="Hoàn thành", exact=True).click()
        self.page.wait_for_url(re.compile(rf"^{re.escape(self.base)}/(tasks/\d+/done)?$"))
        flash = self.page.locator("p.flash").first.inner_text()
        assert "Đã hoàn thành bước" in flash, flash
        if self.page.url.endswith("/done"):
            assert self.page.locator("h1").inner_text().startswith("Đã hoàn thành:")
            assert self.page.locator("ul.next-steps a", has_text="Làm tiếp:").count() >= 1
        return flash

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"casework-{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_report_to_closure_in_the_browser(app, server):
    with chromium() as browser:
        _flow(browser, server, app)


def _flow(browser, base: str, app) -> None:
    # 1. The intake point records the report (Mẫu 01) for the commune.
    intake = Person(browser, base, "tiepnhan")
    page = intake.page
    page.goto(f"{base}/reports/new")
    page.select_option("#f-_commune", "T01-X01")
    page.select_option("#f-category", "xam_hai")
    page.select_option("#f-channel", "hotline_111")
    page.fill("#f-received_at", _moment(30))
    page.fill("#f-child-full_name", "Nguyễn Văn An")
    page.fill("#f-child-estimated_age", "9")
    page.check("#f-child-sex-male")
    page.fill("#f-child-current_condition", "Có vết bầm ở tay, sợ hãi.")
    page.check("#f-informant-consent-true")
    page.fill("#f-informant-name", "Trần Thị Bình")
    page.fill("#f-informant-phone", "0912345678")
    page.check("#f-abuse_forms-bao_luc")
    page.get_by_role("button", name="Ghi nhận báo cáo và mở hồ sơ").click()
    page.wait_for_url(f"{base}/reports/*")
    number = page.locator(".big-number").inner_text().strip()
    assert number.startswith("T01-X01-")
    intake.shot("01-report-recorded")
    intake.close()

    # 2. The officer verifies: first without the required answer (errors inline), then properly.
    officer = Person(browser, base, "canbo")
    page = officer.page
    assert page.locator("table.inbox", has_text=number).count() == 1
    officer.shot("02-inbox-officer")
    officer.open_step(number, "Xác minh thông tin")
    page.fill("#f-findings", "Đã đến nhà và trường: thông tin có cơ sở.")
    page.get_by_role("button", name="Hoàn thành", exact=True).click()
    assert page.locator(".error-summary").is_visible()
    assert page.locator("#f-has_basis-err").inner_text().strip()
    assert page.input_value("#f-findings") == "Đã đến nhà và trường: thông tin có cơ sở."  # input kept
    officer.shot("03-step-with-errors")
    page.check("#f-has_basis-true")
    page.check("#f-child_unsafe-true")
    flash = officer.complete()
    assert "Đánh giá nguy cơ ban đầu (Mẫu số 02)" in flash

    # 3. Mẫu 02, with a draft saved and restored on the way.
    officer.open_step(number, "Đánh giá nguy cơ ban đầu (Mẫu số 02)")
    page.check("#f-harm_health-rating-trung_binh")
    page.fill("#f-proposal", "Tiếp tục thu thập thông tin.")
    page.get_by_role("button", name="Lưu nháp", exact=True).click()
    assert "Đã lưu nháp" in page.locator("p.flash").first.inner_text()
    assert page.input_value("#f-proposal") == "Tiếp tục thu thập thông tin."
    page.check("#f-emergency-false")
    officer.complete()

    # 4. Mẫu 03 and the meeting minute (a list of participants).
    officer.open_step(number, "Thu thập thông tin, đánh giá nguy cơ cụ thể (Mẫu số 03)")
    page.fill("#f-physical_state-description", "Vết bầm đã mờ.")
    page.check("#f-physical_state-rating-thap")
    page.fill("#f-summary", "Cần hỗ trợ tâm lý.")
    officer.complete()
    # The minute as the law in force reads (issue 16): who chaired it, the participants by Art. 27.2's categories.
    officer.open_step(number, "Họp xác định nhu cầu hỗ trợ, can thiệp")
    page.fill("#f-held_at", _moment(10))
    page.check("#f-chaired_by-chairman")
    page.fill("#f-chair_name", "Lê Văn Chủ Tịch")
    page.fill("#f-chair_position", "Chủ tịch UBND phường")
    page.select_option("#f-participants-0-category", "responsible_body")
    page.fill("#f-participants-0-name", "Trần Văn Cán Bộ")
    page.get_by_role("button", name="Thêm dòng").click()  # no JavaScript: the page comes back with a row more
    page.select_option("#f-participants-1-category", "parent_caregiver")
    page.fill("#f-participants-1-name", "Nguyễn Thị Mẹ")
    page.fill("#f-participants-1-organisation", "Mẹ của trẻ")
    officer.complete()

    # 4b. The chairman signs the minute (Art. 27.2); then the plan can be drafted.
    chairman = Person(browser, base, "chutich")
    chairman.open_step(number, "Ký biên bản họp xác định nhu cầu")
    chairman.page.check("#f-decision-sign")
    chairman.page.fill("#f-signed_at", _moment(5))
    chairman.page.fill("#f-signer_name", "Lê Văn Chủ Tịch")
    flash = chairman.complete()
    assert "Xây dựng kế hoạch hỗ trợ, can thiệp (Mẫu số 04)" in flash
    chairman.close()

    # 5. The plan (Mẫu 04): one activity for the school; a spare row added and removed again.
    officer.open_step(number, "Xây dựng kế hoạch hỗ trợ, can thiệp (Mẫu số 04)")
    page.fill("#f-activities-0-measure", "Tư vấn tâm lý hằng tuần")
    page.check("#f-activities-0-level-support")
    page.fill("#f-activities-0-responsible_body", "UBND phường")
    page.select_option("#f-activities-0-assignee", "truonghoc")  # picked from the accounts in scope, not typed
    page.fill("#f-activities-0-start", _day())
    page.fill("#f-activities-0-end", _day(30))
    page.fill("#f-activities-0-cost", "1.200.000")  # the estimated cost (Art. 28.3.d), typed with its dots
    page.fill("#f-activities-0-expected_result", "Trẻ ổn định tâm lý")
    page.get_by_role("button", name="Thêm dòng").click()
    assert page.locator("#f-activities-1-measure").count() == 1
    page.get_by_role("button", name="Xoá dòng 2").click()
    assert page.locator("#f-activities-1-measure").count() == 0
    assert page.input_value("#f-activities-0-assignee") == "truonghoc"
    officer.complete()
    officer.open_step(number, "Dự thảo quyết định phê duyệt kế hoạch (Mẫu số 05)")
    page.fill("#f-decision_number", "15/QĐ-UBND")
    # Where the decision and plan go (Art. 28.5): the body carrying it out and the parents.
    page.check("#f-distribution-0-kind-responsible_body")
    page.fill("#f-distribution-0-name", "Trường THCS Phan Đình Phùng")
    page.check("#f-distribution-0-means-hand")
    page.get_by_role("button", name="Thêm dòng").click()
    page.check("#f-distribution-1-kind-parents")
    page.fill("#f-distribution-1-name", "Nguyễn Thị Mẹ")
    page.check("#f-distribution-1-means-hand")
    flash = officer.complete()
    assert "Phê duyệt kế hoạch hỗ trợ, can thiệp" in flash and "Chủ tịch UBND cấp xã" in flash
    officer.close()

    # 6. The chairman approves.
    chairman = Person(browser, base, "chutich")
    chairman.open_step(number, "Phê duyệt kế hoạch hỗ trợ, can thiệp")
    chairman.page.check("#f-decision-approve")
    chairman.page.fill("#f-decision_number", "15/QĐ-UBND")
    chairman.page.fill("#f-signed_at", _moment(2))
    flash = chairman.complete()
    assert "Trường THCS Phan Đình Phùng" in flash  # the activity went to the school
    chairman.close()

    # 7. The school carries out its activity, seeing only that activity.
    school = Person(browser, base, "truonghoc")
    school.open_step(number, "Thực hiện hoạt động trong kế hoạch")
    assert "Tư vấn tâm lý hằng tuần" in school.page.content()
    assert "Nguyễn Văn An" not in school.page.content() and "Trần Thị Bình" not in school.page.content()
    school.page.check("#f-status-done")
    school.page.fill("#f-result", "Đã tư vấn 4 buổi; trẻ ổn định.")
    school.complete()
    school.close()

    # 8. The officer reviews (Mẫu 06) and proposes to close.
    officer = Person(browser, base, "canbo")
    page = officer.page
    officer.open_step(number, "Rà soát, đánh giá (Mẫu số 06)")
    page.check("#f-harm_still_serious-rating-thap")
    for field in ("no_longer_at_risk", "physical_stable", "psychological_stable", "cognitive_stable",
                  "emotional_stable"):
        page.check(f"#f-{field}-true")
    page.check("#f-conclusion-close")
    officer.complete()
    officer.close()

    # 9. The chairman ends the plan: the case is closed.
    chairman = Person(browser, base, "chutich")
    chairman.open_step(number, "Quyết định kết thúc kế hoạch, đóng hồ sơ")
    chairman.page.check("#f-decision-end")
    flash = chairman.complete()
    assert "Hồ sơ đã kết thúc (Đã đóng)" in flash
    chairman.close()

    officer = Person(browser, base, "canbo")
    page = officer.page
    page.goto(f"{base}/cases?number={number}")
    page.get_by_role("link", name=number, exact=True).click()  # not the dossier link, named "Tải hồ sơ PDF <number>"
    assert "Đã đóng" in page.locator("h1").inner_text()
    assert page.locator(".diagram svg").count() == 1
    assert page.locator("table.timeline tbody tr").count() >= 11
    officer.shot("04-case-page-closed")
    officer.close()

    with app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.status == "closed" and case.closed_at is not None
        assert audit.verify(db.session) == []
        db.session.remove()
