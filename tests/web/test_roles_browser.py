"""A new user's walk per role in headless Debian chromium (Playwright), issue 17: every page the role can open,
at desktop width and at phone width (390×844), checked by axe-core (npm, pinned in package.json) for 0 serious or
critical violations; and the daily work around the step page done through the pages — a child found by name
without diacritics, a returned plan reopening prefilled with the chairman's reasons on top, a step claimed
("Nhận việc"), assigned to someone else by the chairman, and a reminder sent by the province supervisor.

One server, one browser and the demo cases (web/demo.py) for the whole module; one browser context per person.
SQLite only: the PostgreSQL paths of the same pages are covered by the test-client tests. Screenshots go to
test-artifacts/screenshots/roles/<role>-<page>.png (desktop) and <role>-<page>-phone.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import Case, CaseChild, ProcessVersion, ServiceProvider, Task, User
from tests.web.browser_kit import chromium, demo_site, serve
from web import demo
from web.extensions import db

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots" / "roles"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING = ("serious", "critical")
RETURN_REASONS = "Bổ sung hoạt động tư vấn tâm lý cho mẹ của trẻ; ghi rõ kinh phí từng hoạt động."
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser]

# What axe returns: each violation with the elements it found, as the failure message prints them.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
}"""
# The innermost elements that reach past the right edge of the screen (what to fix when a page overflows).
WIDE = """() => {
  const past = e => e.getBoundingClientRect().right > window.innerWidth + 1;
  const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  return [...document.querySelectorAll('body *')]
    .filter(e => past(e) && !clipped(e) && ![...e.children].some(past))
    .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} `
      + `"${e.textContent.trim().slice(0, 40)}" ${Math.round(e.getBoundingClientRect().right)}px`);
}"""


@dataclass
class Site:
    base: str
    browser: Any
    app: Any
    ids: dict[str, int]


def _ids(app) -> dict[str, int]:
    """The demo's cases and steps the walks open, found by the child's name and the step."""
    with app.app_context():
        def case_of(child: str) -> Case:
            case = db.session.scalar(select(Case).join(CaseChild, CaseChild.case_id == Case.id)
                                     .where(CaseChild.full_name == child))
            assert case is not None, child
            return case

        def step(case: Case, name: str) -> int:
            return db.session.scalar(select(Task.id).where(Task.case_id == case.id, Task.step == name,
                                                           Task.state == "ready").order_by(Task.id))

        fresh = db.session.scalars(select(Case).order_by(Case.id)).first()
        assert fresh is not None
        khang, trang, bao = case_of("Phạm Minh Khang"), case_of("Đỗ Thu Trang"), case_of("Vũ Đức Bảo")
        activity = db.session.scalar(select(Task.id).where(Task.case_id == bao.id, Task.assignee == "truonghoc",
                                                           Task.state == "ready"))
        ids = {
            "fresh_case": fresh.id, "fresh_verify": step(fresh, "verify"),
            "emergency_case": khang.id, "detailed": step(khang, "detailed_assessment"),
            "returned_case": trang.id, "approve_plan": step(trang, "approve_plan"),
            "activity_case": bao.id, "activity": activity,
            "closed_case": case_of("Ngô Gia Huy").id,
            "process_version": db.session.scalar(select(ProcessVersion.id).order_by(ProcessVersion.id)),
            "provider": db.session.scalar(select(ServiceProvider.id).order_by(ServiceProvider.id)),
            "user": db.session.scalar(select(User.id).where(User.username == "canbo")),
        }
        db.session.remove()
    missing = [k for k, v in ids.items() if v is None]
    assert not missing, f"demo data lacks {missing}"
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory, case_engine) -> Iterator[Site]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: make venv (npm ci) installs the pinned version")
    app = demo_site(tmp_path_factory, case_engine)
    with app.app_context():
        canbo = db.session.scalar(select(User).where(User.username == "canbo"))
        # A second officer of the first commune: the chairman assigns a step claimed by the first to her.
        db.session.add(User(username="canbo_b", full_name="Bùi Thị Cán Bộ B", role="officer",
                            org_unit_id=canbo.org_unit_id, password_hash=canbo.password_hash,
                            created_at=clock.now(), locale="vi"))
        db.session.commit()
        db.session.remove()
    try:
        with serve(app) as base, chromium() as browser:
            yield Site(base, browser, app, _ids(app))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class Person:
    """One signed-in person in a browser context of their own, at desktop or phone width."""

    def __init__(self, site: Site, username: str, *, phone: bool = False) -> None:
        self.site, self.username, self.phone = site, username, phone
        self.context = site.browser.new_context(locale="vi-VN", viewport=PHONE if phone else DESKTOP,
                                                is_mobile=phone, has_touch=phone)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.goto(f"{site.base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", demo.DEMO_PASSWORD)
        self.page.locator("main button.primary").click()
        self.page.wait_for_url(lambda url: "/login" not in url)  # each role lands on its own start page

    def open(self, path: str) -> None:
        response = self.page.goto(f"{self.site.base}{path}")
        assert response is not None and response.status == 200, f"{self.username}: {path} → " \
            f"{response.status if response else 'nothing'}"

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        suffix = "-phone" if self.phone else ""
        # The whole page down to four screens: enough to look at, and a 27,000 px phone capture costs seconds.
        width, height = self.page.evaluate("() => [document.documentElement.scrollWidth, "
                                           "document.documentElement.scrollHeight]")
        size = PHONE if self.phone else DESKTOP
        self.page.screenshot(path=str(SHOTS / f"{self.username}-{name}{suffix}.png"), full_page=True,
                             clip={"x": 0, "y": 0, "width": width, "height": min(height, 4 * size["height"])})

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's violations on the page as it stands. Evaluated through the DevTools protocol, which the
        app's CSP (script-src 'self', no inline script) does not govern."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        return list(self.page.evaluate(AXE_RUN))

    def close(self) -> None:
        self.context.close()


def _pages(ids: dict[str, int]) -> dict[str, dict[str, str]]:
    """Every page each role opens in its daily work (name for the screenshot → path)."""
    fresh, closed = ids["fresh_case"], ids["closed_case"]
    officer = {
        "inbox": "/", "step": f"/tasks/{ids['fresh_verify']}", "step-detailed": f"/tasks/{ids['detailed']}",
        "case": f"/cases/{ids['emergency_case']}", "case-closed": f"/cases/{closed}", "cases": "/cases",
        "report-form": "/reports/new", "national-db-case": f"/cases/{closed}/national-db",
        "representatives": f"/cases/{fresh}/representatives", "attach": f"/cases/{fresh}/attachments/new",
        "separation": f"/cases/{fresh}/separation", "transfer": f"/cases/{fresh}/transfer",
        "statistics": "/statistics", "sessions": "/account/sessions", "tokens": "/account/tokens",
    }
    return {
        "tiepnhan": {"inbox": "/", "report-form": "/reports/new", "report-created": f"/reports/{fresh}",
                     "cases": "/cases", "case": f"/cases/{fresh}"},
        "canbo": officer,
        "chutich": {"inbox": "/", "step": f"/tasks/{ids['fresh_verify']}", "assign":
                    f"/tasks/{ids['fresh_verify']}/assign", "case": f"/cases/{ids['emergency_case']}",
                    "cases": "/cases", "statistics": "/statistics"},
        "truonghoc": {"inbox": "/", "step": f"/tasks/{ids['activity']}"},
        "giamsat": {"inbox": "/", "dashboard": "/supervisor", "statistics": "/statistics", "cases": "/cases",
                    "case": f"/cases/{ids['emergency_case']}", "step": f"/tasks/{ids['fresh_verify']}",
                    "national-db": "/national-db"},
        "thanhtra": {"inspector": "/inspector", "inspector-case": f"/inspector/cases/{closed}",
                     "statistics": "/statistics"},
        "quantri": {"admin": "/admin", "users": "/admin/users", "user": f"/admin/users/{ids['user']}",
                    "user-new": "/admin/users/new", "units": "/admin/units", "calendar": "/admin/calendar",
                    "processes": "/admin/processes", "process": f"/admin/processes/{ids['process_version']}",
                    "providers": "/admin/providers", "provider": f"/admin/providers/{ids['provider']}",
                    "authorities": "/admin/authorities", "privacy": "/admin/privacy",
                    "privacy-request-new": "/admin/privacy/requests/new",
                    "privacy-breach-new": "/admin/privacy/breaches/new", "restrictions": "/admin/restrictions",
                    "retention": "/admin/retention"},
    }


# The pages also walked at phone width, per role (a subset: the daily ones).
PHONE_PAGES = {"tiepnhan": ("report-form",), "canbo": ("inbox", "step", "case", "cases"),
               "chutich": ("inbox", "step"), "truonghoc": ("step",), "giamsat": ("dashboard", "statistics"),
               "thanhtra": ("inspector", "inspector-case"), "quantri": ("admin", "users")}


def _report(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} [{v['impact']}] ×{v['count']} {v['help']} — {'; '.join(v['targets'])}")
    return "\n".join(lines)


def _sweep(site: Site, role: str, *, phone: bool) -> dict[str, list[dict[str, Any]]]:
    pages = _pages(site.ids)[role]
    person = Person(site, role, phone=phone)
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        for name, path in pages.items():
            if phone and name not in PHONE_PAGES[role]:
                continue
            person.open(path)
            assert person.page.locator("html").get_attribute("lang") in ("vi", "en"), path
            assert person.page.locator("main h1").count() >= 1, f"{path} has no heading in its main landmark"
            person.shot(name)
            blocking = [v for v in person.axe() if v["impact"] in BLOCKING]
            if blocking:
                found[f"{role} {path}{' (phone)' if phone else ''}"] = blocking
            if phone:  # nothing wider than the phone's screen (issue 17)
                width = person.page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= PHONE["width"], (f"{role} {path}: the page is {width} px wide on a 390 px phone; "
                                                 f"past the edge: {person.page.evaluate(WIDE)}")
    finally:
        person.close()
    return found


@pytest.mark.parametrize("role", ["tiepnhan", "canbo", "chutich", "truonghoc", "giamsat", "thanhtra", "quantri"])
def test_every_page_of_the_role_passes_axe_at_desktop_and_phone_width(site, role):
    found = _sweep(site, role, phone=False)
    found.update(_sweep(site, role, phone=True))
    assert not found, "axe-core: serious or critical violations\n" + _report(found)


def test_the_sign_in_page_and_english_mode_pass_axe(site):
    """Before signing in (the login page, at both widths), and an officer's daily pages in English: the pages
    carry lang="en" and the Vietnamese originals left untranslated still pass."""
    found: dict[str, list[dict[str, Any]]] = {}
    for viewport in (DESKTOP, PHONE):
        context = site.browser.new_context(locale="vi-VN", viewport=viewport)
        page = context.new_page()
        try:
            page.goto(f"{site.base}/login")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"anonymous-login{'-phone' if viewport is PHONE else ''}.png"))
            page.evaluate(AXE.read_text(encoding="utf-8"))
            blocking = [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]
            if blocking:
                found[f"anonymous /login {viewport['width']} px"] = blocking
        finally:
            context.close()
    officer = Person(site, "canbo")
    officer.username = "canbo-en"  # the screenshots' name
    try:
        officer.page.locator("header").get_by_role("button", name="English").first.click()
        officer.page.wait_for_load_state()
        for name, path in (("inbox", "/"), ("step", f"/tasks/{site.ids['detailed']}"),
                           ("case", f"/cases/{site.ids['emergency_case']}"), ("statistics", "/statistics")):
            officer.open(path)
            assert officer.page.locator("html").get_attribute("lang") == "en", path
            officer.shot(name)
            blocking = [v for v in officer.axe() if v["impact"] in BLOCKING]
            if blocking:
                found[f"canbo (English) {path}"] = blocking
    finally:
        # The choice is kept on the account: back to Vietnamese for the officer's walks that follow.
        officer.page.locator("header").get_by_role("button", name="Tiếng Việt").first.click()
        officer.page.wait_for_load_state()
        assert officer.page.locator("html").get_attribute("lang") == "vi"
        officer.close()
    assert not found, "axe-core: serious or critical violations\n" + _report(found)


def test_axe_runs_under_the_apps_csp_and_reports_what_it_finds(site):
    """The sweep above proves something only if axe really runs on the app's pages (CSP: no inline script):
    an image without text and an input without a label, planted in the inbox, are reported as critical."""
    officer = Person(site, "canbo")
    try:
        officer.open("/")
        assert officer.axe() is not None and officer.page.evaluate("() => typeof axe.run") == "function"
        officer.page.evaluate("""() => { const main = document.querySelector('main');
          main.insertAdjacentHTML('beforeend', '<img src="/static/none.png"><input type="text" id="planted">'); }""")
        found = {v["id"]: v for v in officer.axe()}
        assert found["image-alt"]["impact"] == "critical" and found["label"]["impact"] == "critical"
        assert "#planted" in found["label"]["targets"]
    finally:
        officer.close()


def test_a_child_is_found_by_name_without_diacritics(site):
    officer = Person(site, "canbo")
    page = officer.page
    try:
        officer.open("/cases")
        page.fill("#filter-q", "khang")  # "Phạm Minh Khang", typed as on a phone without Vietnamese keyboard
        page.get_by_role("button", name="Lọc", exact=True).click()
        rows = page.locator("table tbody tr")
        assert rows.count() == 1 and "Phạm Minh Khang" in rows.first.inner_text()
        officer.shot("search-khang")
        page.fill("#filter-q", "NHIÊN")  # capitals and diacritics, part of the name
        page.get_by_role("button", name="Lọc", exact=True).click()
        assert "Hoàng An Nhiên" in page.locator("table tbody").inner_text()
        page.fill("#filter-q", "bui van tam")  # the second commune's child: outside the officer's scope
        page.get_by_role("button", name="Lọc", exact=True).click()
        assert page.locator("table tbody tr").count() == 0
        assert "Không tìm thấy hồ sơ nào khớp." in page.locator("main").inner_text()
        # The inbox row shows the child's name beside the case number.
        officer.open("/")
        assert page.locator("table.inbox tbody", has_text="Phạm Minh Khang").count() == 1
    finally:
        officer.close()


def test_a_returned_plan_reopens_prefilled_with_the_chairmans_reasons_on_top(site):
    ids = site.ids
    chairman = Person(site, "chutich2")
    try:
        chairman.open(f"/tasks/{ids['approve_plan']}")
        chairman.page.check("#f-decision-return")
        chairman.page.fill("#f-comments", RETURN_REASONS)
        chairman.page.get_by_role("button", name="Hoàn thành", exact=True).click()
        chairman.page.wait_for_url(re.compile(r"/(tasks/\d+/done)?$"))
        assert "Đã hoàn thành bước" in chairman.page.locator("p.flash").first.inner_text()
        chairman.shot("returned")
        blocking = [v for v in chairman.axe() if v["impact"] in BLOCKING]
        assert not blocking, _report({f"chutich2 {chairman.page.url}": blocking})
    finally:
        chairman.close()
    with site.app.app_context():
        draft = db.session.scalar(select(Task.id).where(Task.case_id == ids["returned_case"],
                                                        Task.step == "draft_plan", Task.state == "ready"))
        db.session.remove()
    assert draft is not None
    for phone in (False, True):
        officer = Person(site, "canbo2", phone=phone)
        page = officer.page
        try:
            officer.open(f"/tasks/{draft}")
            main = page.locator("main").inner_text()
            assert "Kế hoạch đã bị trả lại để hoàn thiện" in main and RETURN_REASONS in main
            assert "Hoàng Văn Chủ Tịch Hai" in main  # who returned it
            # The reasons stand above the form, where the officer starts reading, not in the history.
            reasons_y = page.get_by_text(RETURN_REASONS).first.bounding_box()["y"]
            form_y = page.locator("#step-form").bounding_box()["y"]
            assert reasons_y < form_y
            sample = demo.sample("mau_04", clock.now())
            assert page.input_value("#f-objectives") == sample["objectives"]  # the returned version, prefilled
            assert page.input_value("#f-activities-0-measure") == sample["activities"][0]["measure"]
            officer.shot("returned-plan")
            blocking = [v for v in officer.axe() if v["impact"] in BLOCKING]
            assert not blocking, _report({f"canbo2 /tasks/{draft}": blocking})
        finally:
            officer.close()


def test_claim_assign_to_a_colleague_and_remind(site):
    task = site.ids["fresh_verify"]
    officer = Person(site, "canbo")
    try:
        officer.open(f"/tasks/{task}")
        assert "Chưa ai nhận bước này" in officer.page.locator("#ownership").inner_text()
        officer.page.locator("#ownership").get_by_role("button", name="Nhận việc", exact=True).click()
        assert "Bạn đã nhận bước" in officer.page.locator("p.flash").first.inner_text()
        assert "Bạn đã nhận bước này" in officer.page.locator("#ownership").inner_text()
        officer.shot("claimed")
    finally:
        officer.close()

    chairman = Person(site, "chutich")
    page = chairman.page
    try:
        chairman.open(f"/tasks/{task}")
        assert "Trần Văn Cán Bộ" in page.locator("#ownership").inner_text()
        page.get_by_role("link", name="Giao bước cho người khác").click()
        page.get_by_role("button", name="Giao bước này").click()  # nobody chosen: the field says so
        assert page.locator("#as-assignee-err").inner_text().strip()
        assert page.locator(".error-summary").is_visible()
        chairman.shot("assign-error")
        page.select_option("#as-assignee", "canbo_b")
        page.fill("#as-reason", "Chị B phụ trách tổ 5.")
        page.get_by_role("button", name="Giao bước này").click()
        assert "Bùi Thị Cán Bộ B" in page.locator("p.flash").first.inner_text()
        assert "Bùi Thị Cán Bộ B" in page.locator("#ownership").inner_text()
    finally:
        chairman.close()

    supervisor = Person(site, "giamsat")
    try:
        supervisor.open(f"/tasks/{task}")
        form = supervisor.page.locator("#ownership form.remind")
        form.locator("textarea").fill("Sắp hết hạn xác minh, chị xem giúp.")
        form.get_by_role("button", name="Nhắc việc").click()
        assert "Đã nhắc Bùi Thị Cán Bộ B" in supervisor.page.locator("p.flash").first.inner_text()
        supervisor.shot("reminded")
    finally:
        supervisor.close()

    colleague = Person(site, "canbo_b")
    try:
        reminders = colleague.page.locator("section.reminders")
        assert "Sắp hết hạn xác minh, chị xem giúp." in reminders.inner_text()
        colleague.shot("inbox-reminder")
        blocking = [v for v in colleague.axe() if v["impact"] in BLOCKING]
        assert not blocking, _report({"canbo_b /": blocking})
        colleague.open(f"/tasks/{task}")
        assert "Bạn đã nhận bước này" in colleague.page.locator("#ownership").inner_text()
    finally:
        colleague.close()
