"""gunicorn settings for case56 (`gunicorn -c python:web.gunicorn_conf`), read from the environment so the
systemd unit and the tests start the same server.

Prometheus multiprocess mode: every worker writes its request metrics into PROMETHEUS_MULTIPROC_DIR; the
folder is emptied when the server starts and a dead worker's files are marked so its gauges disappear.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

wsgi_app = "web:create_app()"
bind = os.environ.get("CASE56_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("CASE56_WORKERS", "4"))
timeout = int(os.environ.get("CASE56_WORKER_TIMEOUT", "60"))  # a dossier PDF of a long case takes seconds
graceful_timeout = 30
keepalive = 5  # longer than nginx's upstream keepalive would be wrong; nginx opens new connections
accesslog = None  # the app logs each request as one JSON line with its request id (web.observability)
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"  # gunicorn's own scheme detection; the client address is ProxyFix's job


def on_starting(server: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
