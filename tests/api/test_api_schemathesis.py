"""schemathesis against /api/v1/openapi.json through the WSGI app, authenticated with API tokens:
no 5xx, every response (status, content type, headers, body) as the document describes it, invalid
requests refused with a 4xx, and no operation answering without a token.

Every operation runs with generated valid requests (positive), generated invalid ones (negative) and the
document's own examples where it has some; operations with an id in the path also run with the id of a real task
or case, so the answers include the successful ones and not only 404. At most MAX_EXAMPLES requests per
operation and generation mode (half of them with the real id; a few for the PDF, which takes a while to
build), so both databases take well under a minute.
(schemathesis 4.32's pytest loader `from_fixture` fails under pytest 9, so the operations are driven here
with schemathesis's own strategies and checks.)
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.meta import TestPhase

from engine.models import Task

MAX_EXAMPLES = 20
PDF_EXAMPLES = 3
EXAMPLE_RUNS = 5
# No 5xx; status, content type, headers and body as documented; invalid input refused; auth never ignored.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, ignored_auth]
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
OPERATIONS = {
    "POST /api/v1/reports", "GET /api/v1/tasks", "GET /api/v1/tasks/{task_id}", "PUT /api/v1/tasks/{task_id}/draft",
    "POST /api/v1/tasks/{task_id}/complete", "GET /api/v1/cases/{case_id}", "GET /api/v1/cases/{case_id}/dossier.pdf",
    "GET /api/v1/overdue", "GET /api/v1/stranded", "GET /api/v1/statistics", "GET /api/v1/me",
    "GET /api/v1/cases/{case_id}/assignees", "POST /api/v1/tasks/{task_id}/reassign",
    "GET /api/v1/tasks/{task_id}/holders", "POST /api/v1/tasks/{task_id}/claim", "POST /api/v1/tasks/{task_id}/release",
    "POST /api/v1/tasks/{task_id}/assign", "POST /api/v1/tasks/{task_id}/remind",
    "GET /api/v1/cases/{case_id}/providers",
    "GET /api/v1/national-db/pending", "GET /api/v1/cases/{case_id}/national-db",
    "GET /api/v1/cases/{case_id}/national-db/{task_id}/export",
    "POST /api/v1/cases/{case_id}/national-db/{task_id}/entry",
    "POST /api/v1/cases/{case_id}/releases", "DELETE /api/v1/cases/{case_id}/releases",
    "GET /api/v1/cases", "POST /api/v1/reports/candidates",
}
USER = {"GET /api/v1/overdue": "giamsat", "GET /api/v1/stranded": "giamsat"}  # the supervisor's lists; else the officer


def _exercise(strategy: Any, label: str, headers: dict[str, str], statuses: Counter, examples: int) -> None:
    """Run one strategy through schemathesis's checks, counting answers by status."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[(label, response.status_code)] += 1

    run()


def test_api_matches_its_openapi_document(app, world, auth, record_property):
    # Something for the requests to find: fresh, overdue and advanced cases in both communes.
    case_id = world.open()
    world.open(hours_ago=72)
    world.drive(world.open(hours_ago=3), stop_at="detailed_assessment")
    world.open("T01-X02")
    real = {"task_id": world.open_task(case_id).id, "case_id": case_id}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == OPERATIONS

    statuses: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    runs = 0
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        headers = auth(USER.get(label, "canbo"))
        ids = {name: real[name] for name in ("task_id", "case_id") if f"{{{name}}}" in operation.path}
        # MAX_EXAMPLES per operation and mode; with an id in the path, half of them with a real id.
        share = MAX_EXAMPLES // 2 if ids else MAX_EXAMPLES
        plan: list[tuple[str, Any, int]] = [
            ("positive", operation.as_strategy(POSITIVE), share),
            ("negative", operation.as_strategy(NEGATIVE), share),
        ]
        if '"example' in json.dumps(operation.definition.raw):  # the document's own examples, as written
            plan.append(("examples", operation.as_strategy(POSITIVE, phase=TestPhase.EXAMPLES), EXAMPLE_RUNS))
        if ids:
            real_share = PDF_EXAMPLES if label.endswith(".pdf") else share
            plan += [("positive, real id", operation.as_strategy(POSITIVE, path_parameters=ids), real_share),
                     ("negative, real id", operation.as_strategy(NEGATIVE, path_parameters=ids), real_share)]
        for name, strategy, budget in plan:
            runs += 1
            try:
                _exercise(strategy, label, headers, statuses, budget)
            except Exception as error:  # noqa: BLE001 — collect every operation's failure, then report them all
                failures.append(f"{label} [{name}]: {error}")

    requests = sum(statuses.values())
    summary = sorted(f"{label} → {status}: {count}" for (label, status), count in statuses.items())
    record_property("schemathesis", {"operations": len(operations), "runs": runs, "requests": requests})
    print(f"\nschemathesis: {len(operations)} operations, {runs} runs, {requests} requests", *summary, sep="\n  ")
    assert not failures, "\n\n".join(failures)
    # The run reached the API's real answers, not only refusals.
    seen = {(label, status) for label, status in statuses}
    for expected in [("POST /api/v1/reports", 201), ("GET /api/v1/tasks", 200), ("GET /api/v1/tasks/{task_id}", 200),
                     ("PUT /api/v1/tasks/{task_id}/draft", 200), ("GET /api/v1/cases/{case_id}", 200),
                     ("GET /api/v1/cases/{case_id}/dossier.pdf", 200), ("GET /api/v1/overdue", 200),
                     ("GET /api/v1/statistics", 200),
                     ("POST /api/v1/tasks/{task_id}/complete", 422)]:
        assert expected in seen, expected
    assert world.get(Task, real["task_id"]).state in ("ready", "completed")
