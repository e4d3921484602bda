"""HTTP under load: the app under gunicorn (2 workers, 127.0.0.1, a free port) on a generated database.

(The latency of one client completing steps on a one-worker gunicorn is part of the step benchmark,
bench/engine_steps.py, which starts its servers with `Server` below.)

- GET of the inbox page (a commune officer) and of the province dashboard (/supervisor, the overdue lists)
  with a signed-in session cookie: Debian's `wrk` (1 thread, 8 connections, a fixed duration). A small Lua
  script counts every answer that is not 200 (a lost session would answer 302 to the log-in page) and
  reports the 95th percentile.
- POST /api/v1/tasks/{id}/complete with a Bearer token, `If-Match: <case version>` and the verification
  form: a Python thread pool (4 threads, one keep-alive http.client connection each), because every request
  needs a different open task — freshly opened cases, opened through the engine before the server starts
  (cloned workflows are never stepped: see bench/synthetic.py). Each request must answer 200.

With more connections than workers the latency includes the wait in gunicorn's queue (about connections ÷
throughput): the figures are the throughput at saturation and what a user waits then. Loopback only,
bounded by duration and by the number of prepared tasks.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from bench.queries import percentile
from engine import clock
from engine.models import Task, User, make_session_factory
from engine.runtime import Engine
from web import demo

LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non200 = 0 end
function response(status, headers, body) if status ~= 200 then non200 = non200 + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non200") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"non200": %d, "socket_errors": %d}\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), bad,
    e.connect + e.read + e.write + e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_fresh_cases(url: str, count: int, engine: Engine) -> list[tuple[int, int]]:
    """`count` new reports in T01-X01 through the engine; returns (verify task id, case version) of each."""
    factory = make_session_factory(url)
    out = []
    with factory() as session:
        intake = demo.cast(session).actors["tiepnhan"]
        for _ in range(count):
            case = engine.open_case(session, intake, "T01-X01", demo.sample("mau_01", clock.now()))
            task = session.scalar(select(Task).where(Task.case_id == case.id, Task.step == "verify",
                                                     Task.state == "ready"))
            out.append((task.id, case.version))
    factory.kw["bind"].dispose()
    return out


def api_token(url: str, username: str) -> str:
    from web.api import tokens

    factory = make_session_factory(url)
    with factory() as session:
        user = session.scalar(select(User).where(User.username == username))
        token = tokens.issue(session, user, "benchmark", 1, "quantri").token
    factory.kw["bind"].dispose()
    return token


class Server:
    """gunicorn with `workers` workers (sync) on a free loopback port, in a scratch working directory: 2 for the
    load test below, 1 for the step benchmark's one-client latency (bench/engine_steps.py)."""

    def __init__(self, url: str, workers: int = 2) -> None:
        self.url, self.workers = url, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = tempfile.mkdtemp(prefix="case56-bench-http-")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        try:
            return self._start()
        except BaseException:
            self.__exit__()  # never leave a server behind
            raise

    def _start(self) -> Server:
        env = {**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": os.urandom(32).hex(),
               "CASE56_ENV": "development", "CASE56_ATTACHMENTS": str(Path(self.folder) / "attachments")}
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        # The app logs a JSON line per request on stderr: into a file, as a pipe nobody reads fills up (64 KiB,
        # about 200 requests) and then blocks every worker in its write, so requests hang until they time out.
        self.log = Path(self.folder) / "gunicorn.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [gunicorn, "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                 "web:create_app()"], cwd=self.folder, env=env, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True)  # its own process group: stopping it stops its workers too
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/login", timeout=30).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn did not start: " + self.log.read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer within 120 s")

    def __exit__(self, *_exc: Any) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
            # A master killed before its workers (or slow to stop on a busy machine) leaves them running with
            # open transactions that block the next test's TRUNCATE: the whole group goes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def login(self, username: str) -> str:
        """The session cookie of `username` signed in through the log-in form."""
        client = requests.Session()
        page = client.get(self.base + "/login", timeout=30).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answer = client.post(self.base + "/login", timeout=30, allow_redirects=False,
                             data={"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": csrf})
        if answer.status_code != 302:
            raise RuntimeError(f"log-in of {username} failed ({answer.status_code})")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def wrk_get(server: Server, path: str, cookie: str, seconds: int, connections: int = 8) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name,
             "-H", f"Cookie: {cookie}", server.base + path],
            capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script.name)
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
    return {"requests": result["requests"], "req_per_s": round(result["requests"] / result["seconds"], 1),
            "p50_ms": round(result["p50_us"] / 1000, 1), "p95_ms": round(result["p95_us"] / 1000, 1),
            "errors": result["non200"] + result["socket_errors"]}


def complete_tasks(server: Server, token: str, tasks: list[tuple[int, int]], threads: int = 4,
                   seconds: float = 30) -> dict[str, Any]:
    """Complete each prepared task once through the API; stop early after `seconds`."""
    body = json.dumps({"data": demo.sample("verification", clock.now())})
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    shares = [tasks[i::threads] for i in range(threads)]

    def work(share: list[tuple[int, int]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for task_id, version in share:
            if time.monotonic() > stop_at:
                break
            start = time.perf_counter()
            conn.request("POST", f"/api/v1/tasks/{task_id}/complete", body=body,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                  "If-Match": f'"{version}"'})
            answer = conn.getresponse()
            payload = answer.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed * 1000)
                if answer.status != 200:
                    errors.append(f"{answer.status}: {payload[:200]!r}")
        conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, shares))
    wall = time.perf_counter() - start
    return {"requests": len(latencies), "req_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(latencies, 0.5), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "errors": len(errors), **({"first_error": errors[0]} if errors else {})}


def run(url: str, kind: str, cases: int, seconds: int = 10, tasks: int = 200,
        engine: Engine | None = None) -> list[dict[str, Any]]:
    """Measure on the database at `url` (a generated load of `cases` cases)."""
    engine = engine or Engine()
    prepared = open_fresh_cases(url, tasks, engine)
    token = api_token(url, "canbo")
    rows = []
    with Server(url) as server:
        for label, username, path in (("GET inbox page (officer)", "canbo", "/"),
                                      ("GET province dashboard (supervisor)", "giamsat", "/supervisor")):
            cookie = server.login(username)
            result = wrk_get(server, path, cookie, seconds)
            rows.append({"measure": label, "db": kind, "cases": cases, "tool": "wrk -t1 -c8", **result})
        result = complete_tasks(server, token, prepared, seconds=max(seconds * 3, 30))
        rows.append({"measure": "POST /api/v1/tasks/{id}/complete", "db": kind, "cases": cases,
                     "tool": "python http.client, 4 threads", **result})
    return rows


if __name__ == "__main__":  # pragma: no cover
    from bench.synthetic import Synthetic, fresh_database

    database = fresh_database("sqlite", "bench_http")
    Synthetic(database).prepare().add(1000)
    for row in run(database, "sqlite", 1000, seconds=5, tasks=50):
        print(row)
