"""Load: concurrent clients over HTTP (gunicorn, several workers, PostgreSQL) complete tasks across 1,000
cases for a bounded time, some of them racing on the same task. Zero 5xx; every race ends in exactly one
success and one clean conflict; `case56 check` passes afterwards."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from bench.http import Server
from bench.synthetic import generate
from engine import clock
from engine.check import check
from engine.models import OrgUnit, ServiceProvider, Task, User, make_session_factory
from web import demo

pytestmark = pytest.mark.slow
SECONDS = float(os.environ.get("CASE56_LOAD_SECONDS", "12"))  # of load, counted from the server's first answer
CLIENTS = 6


@pytest.fixture
def db_kind() -> str:  # this test is about PostgreSQL under several app processes
    return "postgresql"


def test_concurrent_http_clients_with_races(db_url, case_engine):
    generate(db_url, 1000, engine=case_engine)
    factory = make_session_factory(db_url)
    with factory() as session:
        officers = {u.org_unit_id: u for u in session.scalars(select(User).where(User.role == "officer"))}
        from web.api import tokens

        token_of = {unit: tokens.issue(session, user, "load test", 1, "quantri").token
                    for unit, user in officers.items()}
        # A plan's activities go to partner accounts of the case's own commune (engine.assignees).
        partners_of: dict[int, list[str]] = {}
        for user in session.scalars(select(User).where(User.role == "partner").order_by(User.username)):
            partners_of.setdefault(user.org_unit_id, []).append(user.username)
        # … and may mobilise a provider of the registry of its commune or province (issue 16, Art. 28.3.c).
        parent_of = {unit: parent for unit, parent in session.execute(select(OrgUnit.id, OrgUnit.parent_id))}
        providers_of: dict[int, list[str]] = {}
        for code, unit in session.execute(select(ServiceProvider.code, ServiceProvider.unit_id)
                                          .where(ServiceProvider.active.is_(True)).order_by(ServiceProvider.code)):
            for commune, parent in parent_of.items():
                if unit in (commune, parent):
                    providers_of.setdefault(commune, []).append(code)
        # One task per case: a race is then between its two requests alone (two open steps of one case, such
        # as verification and the police referral, completed by two clients would rightly make both racers 409).
        open_tasks = list({case_id: (task_id, commune, form) for task_id, case_id, commune, form in session.execute(
            select(Task.id, Task.case_id, Task.commune_id, Task.form)
            .where(Task.state == "ready", Task.role == "officer", Task.escalates_task_id.is_(None))
            .order_by(Task.id)
        )}.values())
        assert session.scalar(select(OrgUnit.id).limit(1))
    assert len(open_tasks) >= 100
    rng = random.Random(9)
    rng.shuffle(open_tasks)
    work = list(open_tasks)
    lock = threading.Lock()
    statuses: Counter = Counter()
    races: list[tuple[int, int]] = []
    errors: list[str] = []
    unexpected: list[str] = []

    with Server(db_url, workers=3) as server:
        # The clock starts once the server answers: gunicorn's start (seconds on a busy machine) is not load.
        deadline = time.monotonic() + SECONDS

        def data_for(form: str, commune: int) -> dict:
            data = demo.sample(form, clock.now())
            if form == "mau_04":
                names, offers = partners_of[commune], providers_of.get(commune, [])
                data["activities"] = [{**{k: v for k, v in a.items() if k != "provider"},
                                       "assignee": names[i % len(names)],
                                       **({"provider": offers[i % len(offers)]} if offers else {})}
                                      for i, a in enumerate(data["activities"])]
            return data

        def complete(http: requests.Session, task_id: int, commune: int, form: str, version: int | None) -> int:
            headers = {"Authorization": f"Bearer {token_of[commune]}"}
            if version is not None:
                headers["If-Match"] = str(version)
            response = http.post(f"{server.base}/api/v1/tasks/{task_id}/complete", headers=headers,
                                 json={"data": data_for(form, commune)}, timeout=60)
            if response.status_code == 422 and not unexpected:
                unexpected.append(f"{form}: {response.text[:500]}")
            if response.status_code >= 500:
                errors.append(f"{response.status_code} {response.text[:300]}")
            return response.status_code

        def version_of(http: requests.Session, task_id: int, commune: int) -> int | None:
            response = http.get(f"{server.base}/api/v1/tasks/{task_id}",
                                headers={"Authorization": f"Bearer {token_of[commune]}"}, timeout=60)
            statuses[response.status_code] += 1
            if response.status_code >= 400 and not unexpected:
                unexpected.append(f"GET {task_id}: {response.status_code} {response.text[:500]}")
            return response.json().get("case_version") if response.status_code == 200 else None

        def race(task_id: int, commune: int, form: str, version: int) -> tuple[int, ...]:
            """Two requests for the same step with the same case version, released at the same moment."""
            barrier = threading.Barrier(2)

            def one(_: int) -> int:
                http = requests.Session()
                barrier.wait()
                return complete(http, task_id, commune, form, version)

            with ThreadPoolExecutor(2) as pool:
                return tuple(sorted(pool.map(one, range(2))))

        def client(n: int) -> None:
            http = requests.Session()
            while time.monotonic() < deadline:
                with lock:
                    if not work:
                        return
                    task_id, commune, form = work.pop()
                version = version_of(http, task_id, commune)
                if n % 3 == 0 and version is not None:
                    results = race(task_id, commune, form, version)
                    with lock:
                        races.append(results)
                        statuses.update(results)
                else:
                    status = complete(http, task_id, commune, form, version)
                    with lock:
                        statuses[status] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    served = sum(statuses.values())
    print(f"\nload: {served} requests in {SECONDS:.0f} s, statuses {dict(statuses)}, races {len(races)}")
    assert errors == []
    assert unexpected == []  # sample data is valid: a 422 means the request did not reach the engine
    assert not [s for s in statuses if s >= 500]
    assert races and all(r == (200, 409) for r in races), Counter(races)
    assert statuses[200] >= 50
    with factory() as session:
        assert list(check(case_engine, session)) == []
