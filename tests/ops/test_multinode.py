"""A province's shape for real: Debian's nginx with the shipped site (deploy/nginx) terminating TLS in front of
two gunicorn instances ("web nodes", web.gunicorn_conf) and two tick workers (`case56 tick --loop`), all on one
PostgreSQL database. Clients complete steps through nginx; one web node is killed (SIGKILL, whole process
group) mid-run. Every step is done exactly once (zero lost, zero doubled), the only errors the clients saw are
the in-flight requests of the dead node, which they retried; the audit records the address nginx saw, not the
X-Forwarded-For the client forged. Never skipped: nginx is installed by `make test` (Makefile APT_PACKAGES)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import func, select

from bench.http import api_token, free_port, open_fresh_cases
from engine import clock
from engine.models import AuditEntry, Task, TickHeartbeat, make_session_factory
from tests.conftest import FAST_HASH
from web import demo

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STEPS = 48
CLIENTS = 4
CLIENT_ADDRESS = "127.0.0.2"  # the "browser": a loopback address of its own, so nginx sees it as the client


@pytest.fixture
def db_kind() -> str:  # several processes on one database: PostgreSQL, as in production
    return "postgresql"


class SourceAddress(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (CLIENT_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


def client_session(ca: Path) -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # no proxy or CA bundle from the environment: straight to nginx
    http.mount("https://", SourceAddress())
    http.verify = str(ca)  # the test's self-signed certificate, for localhost
    return http


def nginx_config(folder: Path, port: int, nodes: list[int]) -> Path:
    """The shipped site, with the test's ports, certificate and paths put in (each replacement must match)."""
    site = (ROOT / "deploy/nginx/case56.conf").read_text()
    proxy = (ROOT / "deploy/nginx/case56-proxy.conf").read_text()
    replacements = {
        "    server 127.0.0.1:8000 max_fails=1 fail_timeout=10s;\n":
            "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in nodes),
        "    listen 80;\n    listen [::]:80;\n": f"    listen 127.0.0.1:{free_port()};\n",
        "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n": f"    listen 127.0.0.1:{port} ssl http2;\n",
        "/etc/ssl/case56/": f"{folder}/",
        "/opt/case56/venv/lib/python3.11/site-packages/web/static/": f"{ROOT}/web/static/",
        "/etc/nginx/case56-proxy.conf": f"{folder}/case56-proxy.conf",
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    (folder / "case56-proxy.conf").write_text(proxy)
    (folder / "site.conf").write_text(site)
    temp = folder / "tmp"
    temp.mkdir()
    main = folder / "nginx.conf"
    main.write_text(f"""
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    include {folder}/site.conf;
}}
""")
    return main


def start(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    # Own process group: killing a node kills its master and its workers at once, as a host failure would.
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_nginx_two_web_nodes_two_tick_workers_one_node_killed(db_url, case_engine, tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: `make test` installs Debian's nginx"
    factory = make_session_factory(db_url)
    with factory() as session:
        demo.seed_people(session, FAST_HASH)
    prepared = open_fresh_cases(db_url, STEPS, case_engine)
    token = api_token(db_url, "canbo")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True)
    bin_dir = Path(sys.executable).parent
    base_env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "s" * 40, "CASE56_ENV": "development",
                "CASE56_PROXY_COUNT": "1", "CASE56_ATTACHMENTS": str(tmp_path / "attachments"),
                "CASE56_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    node_ports = [free_port(), free_port()]
    nginx_port = free_port()
    processes: list[subprocess.Popen] = []
    try:
        for n, port in enumerate(node_ports):
            env = {**base_env, "CASE56_BIND": f"127.0.0.1:{port}", "CASE56_WORKERS": "2",
                   "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics{n}")}
            processes.append(start([str(bin_dir / "gunicorn"), "-c", "python:web.gunicorn_conf"], env, tmp_path,
                                   tmp_path / f"node{n}.log"))
        for n in range(2):
            processes.append(start([str(bin_dir / "case56"), "tick", "--loop", "--interval", "1"], base_env,
                                   tmp_path, tmp_path / f"tick{n}.log"))
        config = nginx_config(tmp_path, nginx_port, node_ports)
        processes.append(start([nginx, "-c", str(config), "-g", "daemon off;"], base_env, tmp_path,
                               tmp_path / "nginx.out"))
        deadline = time.monotonic() + 90
        for port in node_ports:
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):  # still starting (a busy machine is slow)
                    pass
                assert time.monotonic() < deadline, (tmp_path / "node0.log").read_text()[-3000:]
                assert all(p.poll() is None for p in processes), "a process died at start-up"
                time.sleep(0.3)
        base = f"https://localhost:{nginx_port}"
        while True:  # ready through nginx once both tick workers have run
            ready = requests.get(f"{base}/readyz", verify=str(tmp_path / "fullchain.pem"), timeout=10)
            if ready.status_code == 200:
                break
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.5)

        # The client's address through nginx, whatever X-Forwarded-For it forged.
        http = client_session(tmp_path / "fullchain.pem")
        page = http.get(f"{base}/login", timeout=10)
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = http.post(f"{base}/login", data={"username": "giamsat", "password": demo.DEMO_PASSWORD,
                                                  "csrf_token": csrf},
                           # over HTTPS the CSRF check wants the Referer, as a browser sends it
                           headers={"X-Forwarded-For": "203.0.113.9", "Referer": f"{base}/login"},
                           allow_redirects=False, timeout=10)
        assert signed.status_code == 302, signed.text.split("<p>")[1][:300]
        assert http.get(f"{base}/static/case56.css", timeout=10).status_code == 200  # served by nginx
        assert http.get(f"{base}/readyz", timeout=10).status_code == 403  # nginx: not a monitoring address

        body = {"data": demo.sample("verification", clock.now())}
        statuses: Counter = Counter()
        retried: Counter = Counter()
        unexpected: list[str] = []
        done = {"n": 0}
        lock = threading.Lock()
        killed = threading.Event()

        def complete(item: tuple[int, int]) -> None:
            task_id, version = item
            session = client_session(tmp_path / "fullchain.pem")
            headers = {"Authorization": f"Bearer {token}", "If-Match": str(version)}
            for attempt in range(20):
                try:
                    answer = session.post(f"{base}/api/v1/tasks/{task_id}/complete", json=body, headers=headers,
                                          timeout=60)
                    status = answer.status_code
                except requests.ConnectionError as exc:
                    status, answer = type(exc).__name__, None
                with lock:
                    statuses[status] += 1
                if status == 200:
                    break
                if status == 409 and attempt > 0:
                    # An earlier attempt reached the dead node and was committed before it died: look it up.
                    state = session.get(f"{base}/api/v1/tasks/{task_id}", headers=headers, timeout=30).json()
                    if state.get("state") == "completed":
                        break
                if status in (502, 503, 504, "ConnectionError"):
                    with lock:
                        retried[status] += 1
                    time.sleep(0.2)
                    continue
                unexpected.append(f"task {task_id}: {status} {answer.text[:300] if answer is not None else ''}")
                return
            with lock:
                done["n"] += 1

        def killer() -> None:
            while done["n"] < STEPS // 3:
                time.sleep(0.01)
            os.killpg(processes[0].pid, signal.SIGKILL)  # web node 1: master and workers, mid-run
            killed.set()

        started = time.monotonic()
        kill_thread = threading.Thread(target=killer, daemon=True)
        kill_thread.start()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(complete, prepared))
        seconds = time.monotonic() - started
        assert killed.wait(5)
        metrics = requests.get(f"http://127.0.0.1:{node_ports[1]}/metrics", timeout=10).text
    finally:
        for process in reversed(processes):
            stop(process)

    with factory() as session:
        ids = [task_id for task_id, _ in prepared]
        completed = session.scalar(select(func.count()).select_from(Task).where(
            Task.id.in_(ids), Task.state == "completed"))
        completions = Counter(entry.details["task"] for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "task_completed")))
        login = session.scalar(select(AuditEntry).where(AuditEntry.action == "login", AuditEntry.actor == "giamsat"))
        workers = session.scalar(select(func.count()).select_from(TickHeartbeat))
    factory.kw["bind"].dispose()
    print(f"\nnginx + 2 web nodes + 2 tick workers: {STEPS} steps in {seconds:.1f} s through nginx, node 1 killed "
          f"after {STEPS // 3}; answers {dict(statuses)}; retried {sum(retried.values())} ({dict(retried)}); "
          f"completed {completed}/{STEPS}, lost {STEPS - completed}, "
          f"doubled {sum(1 for n in completions.values() if n > 1)}; audit login ip {login.details.get('ip')}")
    assert unexpected == []
    assert completed == STEPS  # zero lost
    assert all(completions[i] == 1 for i in ids)  # each step done exactly once
    assert set(statuses) <= {200, 409, 502, 503, 504, "ConnectionError"}
    assert sum(v for k, v in statuses.items() if k != 200 and k != 409) == sum(retried.values())  # only retried
    assert login.details["ip"] == CLIENT_ADDRESS  # nginx's view of the client, not the forged 203.0.113.9
    assert workers == 2
    # the surviving node's request metrics, summed over its gunicorn workers (multiprocess mode)
    assert 'method="POST",status="200"' in metrics and "case56_stranded_cases 0.0" in metrics
