"""bench/pages.py (issue 20): the pages it picks, the throttled measurement in chromium, its figures and targets."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import pages
from engine.models import AuditEntry, Case, OrgUnit, Task
from web import demo


def test_the_profiles_are_the_issues():
    assert pages.network_conditions(pages.SLOW_3G) == {"offline": False, "latency": 400,
                                                       "downloadThroughput": 50_000, "uploadThroughput": 50_000}
    assert pages.network_conditions(pages.SLOW_3G_RTT)["latency"] == 2_000
    assert pages.CPU_SLOWDOWN == 4 and pages.TARGET_BYTES == 61_440 and pages.TARGET_MS == 2_500


def test_rows_take_medians_and_judge_the_targets():
    light = [pages.Visit(30_000, 4, 500, 900, 1_200), pages.Visit(31_000, 4, 520, 950, 1_300),
             pages.Visit(90_000, 4, 3_000, 4_000, 9_000)]  # one slow outlier: the median ignores it
    repeat = [pages.Visit(8_000, 1, 450, 700, 800)] * 3
    row = pages.row("inbox (officer)", pages.SLOW_3G, light, repeat)
    assert row["first_kb"] == round(31_000 / 1024, 1) and row["first_load_ms"] == 1_300
    assert row["repeat_kb"] == round(8_000 / 1024, 1) and row["first_ttfb_ms"] == 520
    assert row["targets"] == "≤ 60 KB met, ≤ 2.5 s met"
    heavy = [pages.Visit(70_000, 9, 600, 2_000, 2_600)] * 3
    assert pages.row("x", pages.SLOW_3G, heavy, repeat)["targets"] == "≤ 60 KB NOT met, ≤ 2.5 s NOT met"
    assert "targets" not in pages.row("x", pages.SLOW_3G_RTT, heavy, repeat)  # the target is set at 400 ms
    lines = pages.target_lines([row, pages.row("x", pages.SLOW_3G_RTT, heavy, repeat)])
    assert len(lines) == 1 and "**30.3 KB**" in lines[0] and "**1300 ms**" in lines[0]


def test_the_pages_picked_are_the_officers_heaviest(session, case_engine, db_url):
    demo.seed(session, case_engine, "pbkdf2:sha256:1000")
    picked = pages.pick_pages(db_url)
    assert [label.split(" (")[0] for label in picked] == ["inbox", "step page", "case page", "dashboard"]
    assert picked["inbox (officer)"] == ("canbo", "/") and picked["dashboard (supervisor)"] == ("giamsat",
                                                                                               "/supervisor")
    commune = session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01-X01"))
    _user, case_path = picked["case page (longest history)"]
    history = dict(session.execute(select(AuditEntry.case_id, func.count()).join(Case, Case.id == AuditEntry.case_id)
                                   .where(Case.commune_id == commune).group_by(AuditEntry.case_id)).all())
    assert history[int(case_path.rsplit("/", 1)[1])] == max(history.values())
    (step_label, (user, step_path)), = ((k, v) for k, v in picked.items() if k.startswith("step page"))
    task = session.get(Task, int(step_path.rsplit("/", 1)[1]))
    assert user == "canbo" and task.state == "ready" and task.role == "officer" and task.commune_id == commune
    assert step_label == f"step page ({task.step})"


class _NoStore(http.server.SimpleHTTPRequestHandler):
    """A file server whose answers no cache keeps (as the app's pages): the repeat visit fetches it again."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *_args) -> None:  # quiet
        pass


@pytest.mark.browser
def test_a_throttled_visit_counts_the_bytes_and_waits_for_the_line(tmp_path):
    """Against a plain file server: the bytes counted are the file's (plus headers), and the emulated line
    (50,000 bytes/s) makes 25,000 bytes take at least half a second."""
    if not Path(pages.CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium (never download a browser)")
    from playwright.sync_api import sync_playwright

    body = "<!doctype html><title>t</title><p>" + "x" * 25_000 + "</p>"
    (tmp_path / "page.html").write_text(body)
    handler = functools.partial(_NoStore, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=pages.CHROMIUM, args=pages.CHROMIUM_ARGS)
            try:
                base = f"http://127.0.0.1:{server.server_address[1]}"
                first, repeat = pages.measure_page(browser, base, "", "/page.html", pages.Profile("t", 50, 50_000))
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    for visit in (first, repeat):  # no-store: the page is fetched both times
        assert len(body) <= visit.bytes < len(body) + 2_000, visit
        assert visit.load_ms >= 500 and visit.dcl_ms <= visit.load_ms and 0 < visit.fcp_ms <= visit.load_ms, visit
