"""Pages on a commune's line (issue 20): bytes and time to a usable page in Chromium on a throttled network.

Set-up: a generated database (bench/synthetic.py, `cases` cases over 100 communes; the demo people), the app
under gunicorn (bench/http.Server: 2 workers on loopback; compression is the app's own, web/assets.py, as in
production where nginx passes the app's encoded answers through), Debian chromium (/usr/bin/chromium,
headless) driven by Playwright, signed in with a session cookie made by the log-in form (not measured). Each
page is fetched a few times before the measurement (warm workers: templates compiled, connections open).

Pages: the commune officer's inbox (/), a step page (the officer's open step with the largest form), the case
page (the officer's commune's case with the longest history: the largest timeline and the diagram with the
path taken) and the province supervisor's dashboard (/supervisor).

Throttling, through a DevTools protocol session on the page, before each navigation:
- Network.emulateNetworkConditions: 50,000 bytes/s down and up (400 kbit/s) and 400 ms of latency added to
  every request: the "Slow 3G" profile as Chrome DevTools defined it until 2024 and as the issue states it.
  DevTools' newer "3G" presets keep the 400 kbit/s but count a 2,000 ms round trip (the old 400 ms × 5 for a
  mobile network's extra handshakes); `PROFILES` measures that one too, as a worst case: two sequential
  requests (the page, then its stylesheet) cost 4 s of latency alone under it, whatever the bytes.
- Emulation.setCPUThrottlingRate rate 4 (a low-end phone).

Figures, median of `runs` runs per page:
- bytes: the sum of Network.loadingFinished encodedDataLength over the navigation (what went over the wire:
  headers and compressed bodies), for a first visit (a new browser context: empty cache, nothing kept) and a
  repeat visit (the same page again in that context: static files from the cache).
- time to a usable page: from the start of navigation to the end of the load event (PerformanceNavigation-
  Timing.loadEventEnd): the HTML parsed, the stylesheet applied, the deferred scripts run (the diagram
  scrolled to the current step) — the page can be read and its forms used. Chromium fires it from the page's
  main thread, so it also waits for the style and layout work a large page (the case page: ~3,400 elements,
  the diagram's among them) costs at 4× slowdown. Reported too: DOMContentLoaded (dcl), the first contentful
  paint (fcp) and the time to the page's response headers (ttfb): the server's own time, as Chromium's
  emulated latency is added while it delivers the body (ttfb stays ~200 ms under a 2,000 ms latency), so
  ttfb shows how much a busy machine's server adds.
Targets: ≤ 60 KB (61,440 bytes) transferred per first visit, ≤ 2.5 s to a usable page, on the 400 ms profile.
Loopback server: the figures are the page's weight and the throttled line, plus the server's own time.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine.models import AuditEntry, Case, OrgUnit, Task, make_session_factory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TARGET_BYTES = 60 * 1024
TARGET_MS = 2500
CPU_SLOWDOWN = 4


@dataclass(frozen=True)
class Profile:
    name: str
    latency_ms: int
    bytes_per_s: int


SLOW_3G = Profile("Slow 3G (400 ms, 400 kbit/s)", 400, 50_000)
SLOW_3G_RTT = Profile("3G, 2,000 ms RTT (400 kbit/s)", 2_000, 50_000)
PROFILES = (SLOW_3G, SLOW_3G_RTT)

# The officer's open steps with the largest forms first: the heaviest step page the officer opens.
HEAVY_STEPS = ("detailed_assessment", "draft_plan", "needs_meeting", "verification", "initial_assessment")


@dataclass(frozen=True)
class Visit:
    bytes: int
    requests: int
    ttfb_ms: float
    dcl_ms: float
    load_ms: float
    fcp_ms: float = 0.0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # progress beside the tables python -m bench prints


def network_conditions(profile: Profile) -> dict[str, Any]:
    """The parameters of Network.emulateNetworkConditions for `profile`."""
    return {"offline": False, "latency": profile.latency_ms, "downloadThroughput": profile.bytes_per_s,
            "uploadThroughput": profile.bytes_per_s}


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "NOT met"


class Transfer:
    """Sums Network.loadingFinished encodedDataLength of the requests a CDP session sees (reset per visit)."""

    def __init__(self) -> None:
        self.total = 0
        self.requests = 0

    def on_finished(self, event: dict[str, Any]) -> None:
        self.total += int(event.get("encodedDataLength", 0))
        self.requests += 1

    def reset(self) -> None:
        self.total, self.requests = 0, 0


def pick_pages(url: str) -> dict[str, tuple[str, str]]:
    """label → (username, path) of the four pages, chosen in the generated database."""
    factory = make_session_factory(url)
    with factory() as session:
        commune = session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01-X01"))
        history = (select(AuditEntry.case_id, func.count().label("n")).group_by(AuditEntry.case_id).subquery())
        case_id = session.scalar(select(Case.id).join(history, history.c.case_id == Case.id)
                                 .where(Case.commune_id == commune).order_by(history.c.n.desc(), Case.id))
        tasks = session.execute(select(Task.id, Task.step).where(Task.commune_id == commune, Task.state == "ready",
                                                                 Task.role == "officer")
                                .order_by(Task.id)).all()
    factory.kw["bind"].dispose()
    if case_id is None or not tasks:
        raise RuntimeError("the generated database has no case or no open officer step in T01-X01")
    rank = {step: i for i, step in enumerate(HEAVY_STEPS)}
    task_id, step = min(tasks, key=lambda t: (rank.get(t.step, len(rank)), t.id))
    return {"inbox (officer)": ("canbo", "/"),
            f"step page ({step})": ("canbo", f"/tasks/{task_id}"),
            "case page (longest history)": ("canbo", f"/cases/{case_id}"),
            "dashboard (supervisor)": ("giamsat", "/supervisor")}


def _cookies(cookie_header: str, base: str) -> list[dict[str, Any]]:
    pairs = (part.split("=", 1) for part in cookie_header.split("; ") if "=" in part)
    return [{"name": name, "value": value, "url": base} for name, value in pairs]


def measure_page(browser: Any, base: str, cookie: str, path: str, profile: Profile) -> tuple[Visit, Visit]:
    """A first visit (empty cache) and a repeat visit of `path` in a new browser context."""
    context = browser.new_context()
    try:
        context.add_cookies(_cookies(cookie, base))
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        transfer = Transfer()
        cdp.on("Network.loadingFinished", transfer.on_finished)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        cdp.send("Network.emulateNetworkConditions", network_conditions(profile))
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        visits = []
        for visit in range(2):
            if visit:  # a new navigation from elsewhere (the same URL twice would count as a reload)
                page.goto("about:blank")
            transfer.reset()
            response = page.goto(base + path, wait_until="load", timeout=120_000)
            if response is None or response.status != 200 or page.url.rstrip("/").endswith("/login"):
                raise RuntimeError(f"{path}: answered {response.status if response else None} at {page.url}")
            page.wait_for_timeout(300)  # late loadingFinished events of the last requests
            timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
                const paint = performance.getEntriesByName('first-contentful-paint')[0];
                return [n.responseStart, n.domContentLoadedEventEnd, n.loadEventEnd, paint ? paint.startTime : 0]; }""")
            visits.append(Visit(transfer.total, transfer.requests, *(float(t) for t in timing)))
        cdp.detach()
        return visits[0], visits[1]
    finally:
        context.close()


def run(cases: int = 1_000, runs: int = 5, profiles: tuple[Profile, ...] = PROFILES, url: str | None = None,
        log: Callable[[str], None] = _log) -> list[dict[str, Any]]:
    """One row per page and profile: median bytes and times over `runs` runs, and the targets; on a new
    database of `cases` generated cases unless `url` is given."""
    from bench.synthetic import Synthetic, fresh_database

    if url is None:
        url = fresh_database("sqlite", "bench_pages")
        started = time.perf_counter()
        Synthetic(url).prepare().add(cases)
        log(f"  pages: {cases} cases generated in {time.perf_counter() - started:.0f} s")
    return run_on(url, runs, profiles, log)


def warm_up(base: str, cookies: dict[str, str], pages: dict[str, tuple[str, str]], times: int = 4) -> None:
    """Each page a few times, unthrottled and unmeasured: every gunicorn worker has compiled its templates and
    opened its database connection before the first measured visit (the first runs were ~1 s slower)."""
    import requests

    for user, path in pages.values():
        for _ in range(times):
            answer = requests.get(base + path, headers={"Cookie": cookies[user]}, timeout=60, allow_redirects=False)
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} for {user} while warming up")


def run_on(url: str, runs: int = 5, profiles: tuple[Profile, ...] = PROFILES,
           log: Callable[[str], None] = _log) -> list[dict[str, Any]]:
    """The measurement on the generated database at `url` (see the module's docstring)."""
    from playwright.sync_api import sync_playwright

    from bench.http import Server

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian chromium is missing: apt-get install -y chromium (never download a browser)")
    pages = pick_pages(url)
    rows: list[dict[str, Any]] = []
    with Server(url) as server, sync_playwright() as p:
        cookies = {user: server.login(user) for user in {user for user, _path in pages.values()}}
        warm_up(server.base, cookies, pages)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for profile in profiles:
                for label, (user, path) in pages.items():
                    firsts, repeats = [], []
                    for _ in range(runs):
                        first, repeat = measure_page(browser, server.base, cookies[user], path, profile)
                        firsts.append(first)
                        repeats.append(repeat)
                    rows.append(row(label, profile, firsts, repeats))
                    log(f"  pages: {profile.name}, {label}: {rows[-1]}")
        finally:
            browser.close()
    return rows


def row(label: str, profile: Profile, firsts: list[Visit], repeats: list[Visit]) -> dict[str, Any]:
    first_bytes = median([v.bytes for v in firsts])
    first_load = median([v.load_ms for v in firsts])
    result: dict[str, Any] = {
        "measure": f"page: {label}", "profile": profile.name, "runs": len(firsts),
        "first_kb": round(first_bytes / 1024, 1), "first_requests": round(median([v.requests for v in firsts])),
        "repeat_kb": round(median([v.bytes for v in repeats]) / 1024, 1),
        "first_ttfb_ms": round(median([v.ttfb_ms for v in firsts])),
        "first_dcl_ms": round(median([v.dcl_ms for v in firsts])),
        "first_fcp_ms": round(median([v.fcp_ms for v in firsts])), "first_load_ms": round(first_load),
        "repeat_load_ms": round(median([v.load_ms for v in repeats])),
    }
    if profile == SLOW_3G:
        result["targets"] = (f"≤ 60 KB {verdict(first_bytes, TARGET_BYTES)}, "
                             f"≤ 2.5 s {verdict(max(first_load, median([v.load_ms for v in repeats])), TARGET_MS)}")
    return result


def target_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets against the rows of `run` (for docs/benchmarks.md's Targets list)."""
    lines = []
    for r in rows:
        if r.get("measure", "").startswith("page: ") and r.get("profile") == SLOW_3G.name:
            lines.append(f"- {r['measure'][6:]} on {SLOW_3G.name} with {CPU_SLOWDOWN}× CPU slowdown: "
                         f"**{r['first_kb']} KB** first visit ({r['repeat_kb']} KB repeat), usable (load event) in "
                         f"**{r['first_load_ms']} ms** first / {r['repeat_load_ms']} ms repeat — {r['targets']}")
    return lines


def section(run: Any) -> tuple[str, Callable[[], list[dict[str, Any]]]]:
    """python -m bench's section (bench/__main__.py SECTIONS): `run` is its Run (full, databases, engine, …).
    The SQLite load the queries and HTTP sections generated is reused when there is one."""
    runs = 7 if run.full else 3
    cases = 10_000 if run.full else 1_000

    def call() -> list[dict[str, Any]]:
        url = run.databases["sqlite"][0] if "sqlite" in run.databases else None
        if url is None:
            from bench.synthetic import Synthetic, fresh_database

            url = fresh_database("sqlite", "bench_pages")
            Synthetic(url, engine=run.engine).prepare().add(cases)
            run.databases["sqlite"] = (url, cases)
        return run_on(url, runs)

    return (f"7. Pages on a commune's line: Chromium, {SLOW_3G.name} and a 2,000 ms RTT, {CPU_SLOWDOWN}× CPU "
            f"slowdown, median of {runs} (issue 20)", call)


def main() -> None:  # pragma: no cover - `python -m bench.pages [cases] [runs]`, the section alone
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rows = run(cases, runs)
    for line in target_lines(rows):
        print(line)
    print(f"(load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":  # pragma: no cover
    main()
