"""Every page each role opens, in headless Debian chromium (Playwright), issue 17 — one walk per role that checks
each page at desktop width (1280×900) and at phone width (390×844, the viewport set per page):

- desktop: the role's daily pages (`_pages`) answer 200, carry lang and a heading in their main landmark, and
  axe-core (npm, pinned in package.json) finds 0 serious or critical violations;
- phone: every page the role can reach — its daily pages, and the pages found by following links from its start
  page and its menu (so a new page is covered without listing it here) — keeps the header within 20% of the screen
  (≤ 168 px), the page within the screen's width (scrollWidth ≤ 390) and every chart's text whole and ≥ 12 px;
  the collapsed menu opens, its links are on screen and lead to their pages, and the daily pages of PHONE_PAGES
  pass axe-core at that width too;

then the daily work around the step page done through the pages — a child found by name without diacritics, a
returned plan reopening prefilled with the chairman's reasons on top, a step claimed ("Nhận việc"), assigned to
someone else by the chairman, and a reminder sent by the province supervisor — and the charts at every common width.

One server, one browser and the demo's people, cases and privacy records (web/demo.py) for the whole module; one
browser context per person. SQLite only: the PostgreSQL paths of the same pages are covered by the test-client
tests. Screenshots: test-artifacts/screenshots/roles/<role>-<page>.jpg (desktop), <role>-<page>-phone.jpg.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import Breach, Case, CaseChild, DataRequest, ProcessVersion, ServiceProvider, Task, User
from tests.web.browser_kit import chromium, demo_site, serve, sign_in
from web import demo
from web.extensions import db

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots" / "roles"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
HEADER_LIMIT = 0.2 * PHONE["height"]  # 168.8 px
BLOCKING = ("serious", "critical")
RETURN_REASONS = "Bổ sung hoạt động tư vấn tâm lý cho mẹ của trẻ; ghi rõ kinh phí từng hoạt động."
# Each demo role in Vietnamese; the supervisor once more in English (longer words, the same pages, at phone width).
ROLES = ("tiepnhan", "canbo", "chutich", "truonghoc", "giamsat", "thanhtra", "quantri", "giamsat:en")
PAGES_PER_ROLE = 40  # pages found by following links, per role
# Links that are not pages: downloads, exports, the API's JSON, and leaving the session.
NOT_PAGES = re.compile(r"\.(pdf|csv|xlsx|json|png|svg)$|/export|/download|^/api/|/logout|/static/")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser]

# What axe returns: each violation with the elements it found, as the failure message prints them.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
}"""
# The page at phone width: the header's height, the page's width and, when it is too wide, the outermost elements
# past the right edge that nothing clips (what to fix); the links to follow; the charts' faults (CHARTS).
MEASURE = """() => {
  const CHARTS = %s;
  const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement) {
      if (p === document.body) return false;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; }
    return false; };
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ')[0] : '');
  const width = Math.max(document.scrollingElement.scrollWidth, document.documentElement.scrollWidth);
  return {
    header: document.querySelector('header.top').getBoundingClientRect().height,
    width: width,
    wide: width <= 390 ? [] : [...document.body.querySelectorAll('*')]
      .filter(e => e.getBoundingClientRect().right > 390 + 1 && !clipped(e)
                   && !(e.parentElement && e.parentElement.getBoundingClientRect().right > 390 + 1))
      .slice(0, 6).map(e => name(e) + ' ' + Math.round(e.getBoundingClientRect().right) + 'px'),
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    charts: CHARTS(),
  };
}"""
# Per chart text: clipped (its box outside the viewBox), or drawn smaller than 12 CSS px once the SVG is scaled
# to its rendered width. Returns the faults found, in words.
CHARTS = """() => {
  const faults = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const view = svg.viewBox.baseVal;
    const scale = svg.getBoundingClientRect().width / view.width;
    for (const text of svg.querySelectorAll('text')) {
      const box = text.getBBox();
      const px = parseFloat(text.getAttribute('font-size')) * scale;
      const what = text.textContent.slice(0, 40);
      if (box.x < view.x - 0.5 || box.y < view.y - 0.5 || box.x + box.width > view.x + view.width + 0.5
          || box.y + box.height > view.y + view.height + 0.5)
        faults.push(`clipped: "${what}" x ${box.x.toFixed(1)}..${(box.x + box.width).toFixed(1)} of ${view.width}`);
      if (px < 12) faults.push(`small: "${what}" ${px.toFixed(1)}px`);
    }
  }
  return faults;
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
            # web/demo.seed_privacy: a data subject's request and a breach, for the privacy pages
            "data_request": db.session.scalar(select(DataRequest.id).order_by(DataRequest.id)),
            "breach": db.session.scalar(select(Breach.id).order_by(Breach.id)),
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
    """One signed-in person in a browser context of their own, at desktop or phone width. A phone context
    (is_mobile, touch) is set to desktop width and back per page by `width` (the walks check each page at both)."""

    def __init__(self, site: Site, username: str, *, phone: bool = False) -> None:
        self.site, self.username, self.phone = site, username, phone
        # each role lands on its own start page
        self.context, self.page = sign_in(site.browser, site.base, username, viewport=PHONE if phone else DESKTOP,
                                          is_mobile=phone, has_touch=phone)

    def width(self, *, phone: bool) -> None:
        """The page laid out again at phone or desktop width (CSS alone adapts it: no reload needed)."""
        if phone != self.phone:
            self.page.set_viewport_size(PHONE if phone else DESKTOP)
            self.phone = phone

    def open(self, path: str) -> None:
        response = self.page.goto(f"{self.site.base}{path}")
        assert response is not None and response.status == 200, f"{self.username}: {path} → " \
            f"{response.status if response else 'nothing'}"

    def shot(self, name: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        SHOTS.mkdir(parents=True, exist_ok=True)
        suffix = "-phone" if self.phone else ""
        # The whole page down to four screens: enough to look at, and a 27,000 px phone capture costs seconds;
        # JPEG, which chromium encodes several times faster than PNG at these sizes.
        width, height = self.page.evaluate("() => [document.documentElement.scrollWidth, "
                                           "document.documentElement.scrollHeight]")
        size = PHONE if self.phone else DESKTOP
        options = {"path": str(SHOTS / f"{self.username}-{name}{suffix}.jpg"), "full_page": True, "quality": 80,
                   "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 4 * size["height"])}}
        try:
            self.page.screenshot(**options)
        except PlaywrightError:  # chromium once refused a capture on a loaded machine ("Unable to capture
            self.page.wait_for_load_state()  # screenshot"): the picture is a record, not a check; one more try
            self.page.screenshot(**options)

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's violations on the page as it stands. Evaluated through the DevTools protocol, which the
        app's CSP (script-src 'self', no inline script) does not govern."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(_axe_source())
        return list(self.page.evaluate(AXE_RUN))

    def close(self) -> None:
        self.context.close()


_AXE_SOURCE: list[str] = []


def _axe_source() -> str:
    """axe.min.js, read once per module (half a megabyte, injected on every page checked)."""
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE.read_text(encoding="utf-8"))
    return _AXE_SOURCE[0]


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
                    "privacy-breach-new": "/admin/privacy/breaches/new",
                    "privacy-request": f"/admin/privacy/requests/{ids['data_request']}",
                    "privacy-breach": f"/admin/privacy/breaches/{ids['breach']}", "restrictions": "/admin/restrictions",
                    "retention": "/admin/retention"},
    }


# The pages also walked at phone width, per role (a subset: the daily ones).
PHONE_PAGES = {"tiepnhan": ("report-form",), "canbo": ("inbox", "step", "case", "cases"),
               "chutich": ("inbox", "step"), "truonghoc": ("step",), "giamsat": ("dashboard", "statistics"),
               "thanhtra": ("inspector", "inspector-case"),
               "quantri": ("admin", "users", "privacy-request", "privacy-breach")}


def _report(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} [{v['impact']}] ×{v['count']} {v['help']} — {'; '.join(v['targets'])}")
    return "\n".join(lines)


def _shape(path: str) -> str:
    """One visit per kind of page: /cases/12 and /cases/13 are the same page — but each step's form differs,
    so a step page counts by its id (the crawl's page limit bounds them)."""
    if re.fullmatch(r"/tasks/\d+", path):
        return path
    return re.sub(r"\d+", "N", path)


def _local(href: str, base: str) -> str | None:
    if href.startswith(base):
        href = href[len(base):]
    if not href.startswith("/") or href.startswith("//"):
        return None
    path = urlsplit(href).path
    return None if NOT_PAGES.search(path) else href.split("#")[0]


def _check_menu(person: Person, tag: str) -> list[str]:
    """At phone width the menu is collapsed, opens from its summary, and every link in it is on screen; the opened
    menu passes axe-core; its last link leads to its page. Returns the menu's links."""
    page = person.page
    menu = page.locator("header details.menu")
    assert menu.count() == 1, tag
    assert not menu.evaluate("d => d.open"), tag
    summary = menu.locator("summary")
    assert summary.is_visible() and summary.inner_text().strip(), tag  # an accessible name in words
    summary.click()
    assert menu.evaluate("d => d.open"), tag
    links = menu.locator("nav a")
    assert links.count() >= 1, tag
    hrefs = []
    for index in range(links.count()):
        link = links.nth(index)
        assert link.is_visible(), (tag, link.inner_text())
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (tag, box)
        hrefs.append(link.get_attribute("href"))
    assert menu.get_by_role("button", name=re.compile("^(Đăng xuất|Log out|Sign out)$")).is_visible(), tag
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{tag}-menu-open-phone.png"))
    # The opened menu, as axe-core sees it (the walk checks the pages with it closed).
    page.evaluate(_axe_source())
    violations = page.evaluate("""async () => (await axe.run('header.top', {resultTypes: ['violations']}))
        .violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id + ': ' + v.help)""")
    assert violations == [], (tag, violations)
    links.last.click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == urlsplit(hrefs[-1]).path, (tag, page.url)
    return hrefs


def _switch_language(page: Any, label: str) -> None:
    page.locator("header details.menu summary").click()
    page.locator("header form.lang button").click()
    page.wait_for_load_state()
    assert page.locator("header form.lang button").inner_text().strip() != label


class Walk:
    """One person's pages, each checked at desktop width when it is one of the role's daily pages, and at phone
    width always; what fails is gathered (axe's findings, pages too wide) and asserted at the end."""

    def __init__(self, site: Site, who: str) -> None:
        self.username, _sep, self.language = who.partition(":")
        self.tag = who.replace(":", "-")  # screenshot names: giamsat-en-statistics-phone.png
        self.site = site
        self.person = Person(site, self.username, phone=True)
        self.person.username = self.tag
        # The daily pages (desktop and phone checks) by path; the English walk has only the phone's.
        self.daily = {} if self.language else {path: name for name, path in _pages(site.ids)[self.username].items()}
        self.phone_axe = set(PHONE_PAGES.get(self.username, ())) if not self.language else set()
        self.axe_found: dict[str, list[dict[str, Any]]] = {}
        self.problems: list[str] = []
        self.charts = 0

    def visit(self, path: str) -> list[str] | None:
        """Check the page at both widths; its links, or None when the person may not open it."""
        person, page = self.person, self.person.page
        name = self.daily.pop(path, None)
        daily = name is not None
        if name is not None:  # a daily page: 200, lang, a heading, axe at desktop width
            person.width(phone=False)
            person.open(path)
            self._basics(path)
            person.shot(name)
            self._axe(path, "")
        else:
            person.width(phone=True)
            response = page.goto(f"{self.site.base}{path}")
            if response is None or response.status >= 400:
                return None  # a refusal page is not this person's page; links to it are the pages' concern
            name = _shape(urlsplit(path).path).strip("/").replace("/", "-") or "inbox"
        person.width(phone=True)
        figures = page.evaluate(MEASURE % CHARTS)
        if figures["header"] > HEADER_LIMIT or figures["width"] > PHONE["width"]:
            self.problems.append(f"{path}: header {figures['header']:.0f}px, width {figures['width']}px on a "
                                 f"390 px phone, wide: {figures['wide']}")
        self.problems += [f"{path}: chart text {fault}" for fault in figures["charts"]]
        self.charts += len(page.locator("svg.chart").all())
        person.shot(name)
        if daily and name in self.phone_axe:
            self._basics(path)
            self._axe(path, " (phone)")
        return list(figures["links"])

    def _basics(self, path: str) -> None:
        page = self.person.page
        assert page.locator("html").get_attribute("lang") in ("vi", "en"), path
        assert page.locator("main h1").count() >= 1, f"{path} has no heading in its main landmark"

    def _axe(self, path: str, where: str) -> None:
        blocking = [v for v in self.person.axe() if v["impact"] in BLOCKING]
        if blocking:
            self.axe_found[f"{self.tag} {path}{where}"] = blocking


@pytest.mark.parametrize("who", ROLES)
def test_every_page_of_the_role_at_desktop_and_phone_width(site, who):
    walk = Walk(site, who)
    person, page = walk.person, walk.person.page
    start = urlsplit(page.url).path
    try:
        if walk.language == "en":
            _switch_language(page, "English")
        menu = _check_menu(person, walk.tag)
        # The pages found from the start page and the menu, one per shape, up to PAGES_PER_ROLE; then the daily
        # pages the links did not lead to.
        queue, seen, visited = [start, *menu], set(), []
        while queue and len(visited) < PAGES_PER_ROLE:
            path = queue.pop(0)
            if _shape(urlsplit(path).path) in seen:
                continue
            seen.add(_shape(urlsplit(path).path))
            links = walk.visit(path)
            if links is None:
                continue
            visited.append(path)
            for href in links:
                local = _local(href, site.base)
                if local and _shape(urlsplit(local).path) not in seen:
                    queue.append(local)
        assert len(visited) >= 2, (who, visited)
        for path in list(walk.daily):
            walk.visit(path)
        if "/reports/new" in visited:  # the report form refused: its error summary and field errors fit too
            person.width(phone=True)
            page.goto(f"{site.base}/reports/new")
            page.get_by_role("button", name=re.compile("Ghi nhận báo cáo|Record the report")).click()
            page.wait_for_load_state()
            assert page.locator(".field-error").count() >= 1
            figures = page.evaluate(MEASURE % CHARTS)
            if figures["width"] > PHONE["width"]:
                walk.problems.append(f"/reports/new refused: width {figures['width']}px, wide: {figures['wide']}")
            person.shot("reports-new-refused")
        if walk.username in ("giamsat", "chutich"):  # the dashboard's and the statistics' charts were measured
            assert walk.charts >= 3, (who, walk.charts)
        assert not walk.axe_found, "axe-core: serious or critical violations\n" + _report(walk.axe_found)
        assert not walk.problems, "\n".join(walk.problems)
    finally:
        if walk.language == "en":  # the choice is stored on the user: back to Vietnamese for the other tests
            person.width(phone=True)
            page.goto(f"{site.base}{start}")
            _switch_language(page, "Tiếng Việt")
        person.close()


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
            page.evaluate(_axe_source())
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


def _login(site: Site, username: str, viewport: dict[str, int]) -> Any:
    return sign_in(site.browser, site.base, username, viewport=viewport)


def test_charts_on_a_desktop_are_readable_and_whole(site):
    """At 1280 px the statistics grid puts charts side by side: each still draws its text at >= 12 px, and the
    desktop header holds the whole menu (no summary to open)."""
    context, page = _login(site, "giamsat", DESKTOP)
    try:
        for path in ("/statistics", "/supervisor"):
            assert page.goto(f"{site.base}{path}").status == 200
            assert page.locator("svg.chart").count() >= 3, path
            assert page.evaluate(CHARTS) == [], path
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"giamsat-charts-{path.strip('/')}.png"), full_page=False)
        assert not page.locator("header details.menu summary").is_visible()
        assert page.locator("header nav a").first.is_visible()
        assert page.locator("header.top").bounding_box()["height"] <= 120  # two lines at most
    finally:
        context.close()


def test_chart_labels_of_any_length_stay_inside(site):
    """Labels from the database can be long, without spaces or in capitals: drawn in a phone-wide and a 260-px
    box they stay inside the chart at >= 12 px, and a label cut short keeps its whole text in a <title>."""
    from web.charts import Series, stacked_bars

    long_step = "Thu thập thông tin, đánh giá nguy cơ cụ thể và lập kế hoạch hỗ trợ can thiệp (Mẫu số 03, Mẫu số 04)"
    rows = [
        ("Phường Phan Đình Phùng (demo)", (12, 3)),
        ("ỦY BAN NHÂN DÂN XÃ ĐẠI TỪ, TỈNH THÁI NGUYÊN — ĐƯỜNG DÂY NÓNG", (1, 0)),
        ("W" * 90, (0, 4)),
        (long_step * 2, (125, 1040)),
        ("", (2, 2)),
    ]
    chart = str(stacked_bars("Thử nhãn dài", rows, [Series("Quá hạn", "#b3261e"), Series("Sắp đến hạn", "#a15c00"),
                                                    Series("Đang trong hạn, chưa đến hạn", "#1e7b34")]))
    assert f"<title>{long_step * 2}</title>" in chart  # cut to three lines, whole in the tooltip
    css = (ROOT / "web" / "static" / "oversight.css").read_text(encoding="utf-8")
    context = site.browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        for width in (346, 1200):
            page.set_content(f"<style>{css}</style><div style='width:{width}px'>{chart}</div>")
            assert page.evaluate(CHARTS) == [], width
    finally:
        context.close()


# The selected option's text against the room inside its closed <select> (the width less padding and arrow).
SELECT_FITS = """(id) => {
  const select = document.getElementById(id);
  const style = getComputedStyle(select);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.font;
  const text = select.options[select.selectedIndex].text;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return {text, need: Math.ceil(ctx.measureText(text).width), room: Math.floor(room)};
}"""


def test_question_labels_take_no_colon_and_the_period_is_read_whole(site):
    """Issue 17: a stacked cell whose label is a question ("Đúng hạn?") shows no "?:" on the phone; the statistics
    page's period dropdown shows its whole selected text at 1280 px and at 390 px (one sign-in, the viewport set
    per width, the page loaded at each)."""
    context, page = _login(site, "giamsat", DESKTOP)
    try:
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            assert page.goto(f"{site.base}/statistics").status == 200
            fit = page.evaluate(SELECT_FITS, "s-period")
            assert fit["need"] <= fit["room"], (viewport, fit)
    finally:
        context.close()
    context, page = _login(site, "canbo", PHONE)
    try:
        case = next(h for h in (page.goto(f"{site.base}/cases") and page.eval_on_selector_all(
            "a.case-number", "as => as.map(a => a.getAttribute('href'))")))
        assert page.goto(f"{site.base}{case}").status == 200
        befores = page.eval_on_selector_all(
            "table.responsive td[data-label]", "tds => tds.map(td => getComputedStyle(td, '::before').content)")
        assert any("Đúng hạn?" in b for b in befores), befores[:12]
        assert not [b for b in befores if "?:" in b], befores
    finally:
        context.close()


def test_supervisor_charts_read_at_12_px_at_every_common_width(site):
    """Issue 17: a chart (web/charts.WIDTH) is never wider than its cell on the supervisor dashboard or the
    statistics page, so its text is not scaled below 12 px — from a 320-px phone through a tablet to a desktop
    (one sign-in, the viewport set per width, each page loaded at that width)."""
    context, page = _login(site, "giamsat", DESKTOP)
    try:
        for width in (320, 360, 390, 768, 1024, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            for path in ("/supervisor", "/statistics"):
                assert page.goto(f"{site.base}{path}").status == 200
                assert page.locator("svg.chart").count() >= 3, (path, width)
                assert page.evaluate(CHARTS) == [], (path, width)
    finally:
        context.close()
