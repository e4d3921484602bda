"""Phone width (issue 17): at 390×844 in headless Debian chromium, every page each demo role can reach — the
menu's pages and the pages their links lead to (inbox, steps, cases, report form, dashboard, statistics,
inspector, admin, privacy, national database) — keeps the header within 20% of the screen (≤ 168 px) and the
page within the screen's width (document.scrollingElement.scrollWidth ≤ 390); the collapsed menu opens, its
links are on screen and lead to their pages. Pages are found by following links, so a new page is covered
without listing it here. Screenshots: test-artifacts/screenshots/phone/<role>-<page>.png.

SQLite only: this drives a real browser against a real server thread; the PostgreSQL paths of the same pages
are covered by the test-client tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.web.browser_kit import chromium, demo_site, serve
from web import demo
from web.extensions import db

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots" / "phone"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # pinned in package.json, installed by make venv
PHONE = {"width": 390, "height": 844}
HEADER_LIMIT = 0.2 * PHONE["height"]  # 168.8 px
# Each demo role in Vietnamese; the supervisor once more in English (longer words, the same pages).
ROLES = ("tiepnhan", "canbo", "chutich", "truonghoc", "giamsat", "thanhtra", "quantri", "giamsat:en")
PAGES_PER_ROLE = 40
# Links that are not pages: downloads, exports, the API's JSON, and leaving the session.
NOT_PAGES = re.compile(r"\.(pdf|csv|xlsx|json|png|svg)$|/export|/download|^/api/|/logout|/static/")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser]

MEASURE = """() => {
  const CHARTS = %s;
  const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement) {
      if (p === document.body) return false;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; }
    return false; };
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ')[0] : '');
  return {
    header: document.querySelector('header.top').getBoundingClientRect().height,
    width: document.scrollingElement.scrollWidth,
    // What sticks out (for the failure message): the outermost elements past the right edge, not clipped.
    wide: [...document.body.querySelectorAll('*')]
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


@pytest.fixture(scope="module")
def site(tmp_path_factory, case_engine) -> Iterator[Site]:
    app = demo_site(tmp_path_factory, case_engine)
    try:
        with serve(app) as base, chromium() as browser:
            yield Site(base, browser)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


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


def _check_menu(page: Any, base: str, username: str) -> list[str]:
    """The menu is collapsed, opens from its summary, and every link in it is on screen; returns its links."""
    menu = page.locator("header details.menu")
    assert menu.count() == 1, username
    assert not menu.evaluate("d => d.open"), username
    summary = menu.locator("summary")
    assert summary.is_visible() and summary.inner_text().strip(), username  # an accessible name in words
    summary.click()
    assert menu.evaluate("d => d.open"), username
    links = menu.locator("nav a")
    assert links.count() >= 1, username
    hrefs = []
    for index in range(links.count()):
        link = links.nth(index)
        assert link.is_visible(), (username, link.inner_text())
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (username, box)
        hrefs.append(link.get_attribute("href"))
    assert menu.get_by_role("button", name=re.compile("^(Đăng xuất|Log out|Sign out)$")).is_visible(), username
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{username}-menu-open.png"))
    # The opened menu, as axe-core sees it (the browser walks check the pages with it closed).
    assert AXE.exists(), "axe-core is missing: make venv (npm ci) installs the pinned version"
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate("""async () => (await axe.run('header.top', {resultTypes: ['violations']}))
        .violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id + ': ' + v.help)""")
    assert violations == [], (username, violations)
    # A link of the opened menu leads to its page.
    links.last.click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == urlsplit(hrefs[-1]).path, (username, page.url)
    return hrefs


def _switch_language(page: Any, label: str) -> None:
    page.locator("header details.menu summary").click()
    page.locator("header form.lang button").click()
    page.wait_for_load_state()
    assert page.locator("header form.lang button").inner_text().strip() != label


@pytest.mark.parametrize("who", ROLES)
def test_every_page_fits_a_phone(site, who):
    username, _sep, language = who.partition(":")
    tag = who.replace(":", "-")  # screenshot names: giamsat-en-statistics.png
    start = "/"
    context = site.browser.new_context(locale="vi-VN", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{site.base}/login")
        page.fill("#username", username)
        page.fill("#password", demo.DEMO_PASSWORD)
        page.locator("main button.primary").click()
        page.wait_for_url(re.compile(re.escape(site.base) + r"/.*"))
        page.wait_for_load_state()
        start = urlsplit(page.url).path
        if language == "en":
            _switch_language(page, "English")
        menu = _check_menu(page, site.base, tag)

        queue = [start, *menu]
        seen: set[str] = set()
        visited: list[str] = []
        problems: list[str] = []
        charts = 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        while queue and len(visited) < PAGES_PER_ROLE:
            path = queue.pop(0)
            if _shape(urlsplit(path).path) in seen:
                continue
            seen.add(_shape(urlsplit(path).path))
            response = page.goto(f"{site.base}{path}")
            if response is None or response.status >= 400:
                continue  # a refusal page is not this person's page; links to it are the pages' concern
            visited.append(path)
            figures = page.evaluate(MEASURE % CHARTS)
            if figures["header"] > HEADER_LIMIT or figures["width"] > PHONE["width"]:
                problems.append(f"{path}: header {figures['header']:.0f}px, width {figures['width']}px, "
                                f"wide: {figures['wide']}")
            problems += [f"{path}: chart text {fault}" for fault in figures["charts"]]
            charts += len(page.locator("svg.chart").all())
            name = _shape(urlsplit(path).path).strip("/").replace("/", "-") or "inbox"
            page.screenshot(path=str(SHOTS / f"{tag}-{name}.png"), full_page=True)
            for href in figures["links"]:
                local = _local(href, site.base)
                if local and _shape(urlsplit(local).path) not in seen:
                    queue.append(local)
        assert len(visited) >= 2, (username, visited)
        if "/reports/new" in visited:  # the report form refused: its error summary and field errors fit too
            page.goto(f"{site.base}/reports/new")
            page.get_by_role("button", name=re.compile("Ghi nhận báo cáo|Record the report")).click()
            page.wait_for_load_state()
            assert page.locator(".field-error").count() >= 1
            figures = page.evaluate(MEASURE % CHARTS)
            if figures["width"] > PHONE["width"]:
                problems.append(f"/reports/new refused: width {figures['width']}px, wide: {figures['wide']}")
            page.screenshot(path=str(SHOTS / f"{tag}-reports-new-refused.png"), full_page=True)
        if username in ("giamsat", "chutich"):  # the dashboard's and the statistics' charts were measured
            assert charts >= 3, (username, charts)
        assert not problems, "\n".join(problems)
    finally:
        if language == "en":  # the choice is stored on the user: back to Vietnamese for the other tests
            page.goto(f"{site.base}{start}")
            _switch_language(page, "Tiếng Việt")
        context.close()


def _login(site: Site, username: str, viewport: dict[str, int]) -> Any:
    context = site.browser.new_context(locale="vi-VN", viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{site.base}/login")
    page.fill("#username", username)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.locator("main button.primary").click()
    page.wait_for_load_state()
    return context, page


def test_charts_on_a_desktop_are_readable_and_whole(site):
    """At 1280 px the statistics grid puts charts side by side: each still draws its text at >= 12 px, and the
    desktop header holds the whole menu (no summary to open)."""
    context, page = _login(site, "giamsat", {"width": 1280, "height": 900})
    try:
        for path in ("/statistics", "/supervisor"):
            assert page.goto(f"{site.base}{path}").status == 200
            assert page.locator("svg.chart").count() >= 3, path
            assert page.evaluate(CHARTS) == [], path
            page.screenshot(path=str(SHOTS / f"desktop-giamsat-{path.strip('/')}.png"), full_page=False)
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
    css = (SHOTS.parents[2] / "web" / "static" / "oversight.css").read_text(encoding="utf-8")
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
    page's period dropdown shows its whole selected text at 1280 px and at 390 px."""
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        context, page = _login(site, "giamsat", viewport)
        try:
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
    statistics page, so its text is not scaled below 12 px — from a 320-px phone through a tablet to a desktop."""
    for width in (320, 360, 390, 768, 1024, 1280):
        context, page = _login(site, "giamsat", {"width": width, "height": 900})
        try:
            for path in ("/supervisor", "/statistics"):
                assert page.goto(f"{site.base}{path}").status == 200
                assert page.locator("svg.chart").count() >= 3, (path, width)
                assert page.evaluate(CHARTS) == [], (path, width)
        finally:
            context.close()
