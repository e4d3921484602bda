"""Prometheus metrics at `GET /metrics`: requests per endpoint (count, latency) and the business gauges an
operator alerts on (overdue steps, due-timer backlog, timer incidents, stranded cases, tick heartbeat age).

Under gunicorn every worker is its own process: with `PROMETHEUS_MULTIPROC_DIR` set (the systemd unit does,
and `web.gunicorn_conf` clears a dead worker's files) the request metrics are summed over all workers. The
business gauges are read from the database by the process that answers the scrape, so every node reports the
same province-wide figures. `/metrics` and `/readyz` answer only addresses in `CASE56_MONITOR_ALLOW`.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from engine import monitoring

REQUESTS = Counter("case56_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram("case56_http_request_duration_seconds", "Time to answer a request", ["endpoint"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def allowed(remote: str | None) -> bool:
    """Is the (proxy-corrected) client address in CASE56_MONITOR_ALLOW?"""
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    networks = [n.strip() for n in str(current_app.config.get("CASE56_MONITOR_ALLOW", "")).split(",") if n.strip()]
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def require_monitor_address() -> None:
    if not allowed(request.remote_addr):
        abort(404)  # the endpoint is not advertised to anyone else


class BusinessCollector(Collector):
    """Reads the figures at scrape time (counts only, never case data)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from web.extensions import db

        try:
            figures = monitoring.figures(db.session, current_app.config["CASE56_TICK_STALE_MINUTES"])
        finally:
            db.session.remove()
        yield GaugeMetricFamily("case56_up", "1 when the database answered the scrape", value=1)
        yield GaugeMetricFamily("case56_overdue_steps", "Open steps past their time limit",
                                value=figures.overdue_steps)
        yield GaugeMetricFamily("case56_due_timer_backlog", "Timers due more than a minute ago and not fired",
                                value=figures.due_timer_backlog)
        yield GaugeMetricFamily("case56_timer_incidents", "Timers that failed too often (need a person)",
                                value=figures.timer_incidents)
        yield GaugeMetricFamily("case56_stranded_cases", "Open cases nothing and nobody can move",
                                value=figures.stranded_cases)
        age = figures.tick_age_seconds
        yield GaugeMetricFamily("case56_tick_heartbeat_age_seconds",
                                "Seconds since a tick worker last finished a batch (-1: never)",
                                value=-1 if age is None else age)


def registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scrape = CollectorRegistry()
        MultiProcessCollector(scrape)
    else:
        scrape = CollectorRegistry()
        for collector in (REQUESTS, LATENCY):
            scrape.register(collector)
        # The process metrics of the default registry (memory, CPU, open files) in a single process.
        for collector in list(REGISTRY._collector_to_names):  # noqa: SLF001 - no public way to list them
            if collector not in (REQUESTS, LATENCY):
                scrape.register(collector)
    scrape.register(BusinessCollector())
    return scrape


def init_app(app: Flask) -> None:
    @app.before_request
    def _clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            endpoint = request.endpoint or "unmatched"  # bounded: never the raw path
            REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response

    @app.route("/metrics")
    def metrics() -> Response:
        require_monitor_address()
        try:
            body = generate_latest(registry())
        except Exception:  # noqa: BLE001 - the database is down: say so, with the request metrics still useful
            current_app.logger.exception("metrics: business figures unavailable")
            return Response("# database unavailable\ncase56_up 0\n", status=503, mimetype=CONTENT_TYPE_LATEST)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

