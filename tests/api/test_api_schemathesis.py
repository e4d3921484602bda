"""schemathesis against /api/v1/openapi.json through the WSGI app, as `st run` would run it: every check it has
(no 5xx; status, content type, headers and body as documented; valid requests accepted, invalid ones refused;
missing required headers, unsupported methods, Allow headers, auth never ignored, use after free, resource
availability, object-level authorization) and every phase (the document's examples, coverage, fuzzing, and the
stateful phase, which chains operations through the links schemathesis infers from Location headers and
responses). Every operation of the document runs (OPERATIONS); 0 failures of any kind, on both databases.

The document declares what the server enforces (web/api/docs.py: one-line text without control or hidden
characters, If-Match, periods and dates, this installation's unit codes as enums; strict JSON types; the forms'
own JSON Schema). What JSON Schema cannot say — rules across fields or against the clock (a child's age and date
of birth, no receipt in the future or older than the configured bound), and what depends on the case (which
form a step takes, who may be assigned) — is answered 422 with field messages; for the operations that have such
rules, and only for them, 422 is an expected answer to a schema-valid request (POSITIVE_422, each with why).

The budget per operation and phase is CASE56_SCHEMATHESIS_EXAMPLES (default 3 on each database). The coverage phase
(about 2,200 of the 2,500 test cases) is the same on both whatever the budget; the generated phases take a seed of
their own per database (SEEDS), so the two runs search apart: 3 + 3 examples per operation and phase, where both
databases used to run the one seed 56, at 5 and 3 (side by side at load 9, SQLite: 88 s CPU at 5, 69 s at 2). The
run's counts (operations, test cases by phase, failures) are printed and recorded as a property.
(schemathesis 4.32's WSGI transport hands socket settings — max_redirects, verify, cert — to werkzeug's test
client when the engine gives it a werkzeug session, which raises TypeError: `_wsgi_send` drops them.)
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.transport.wsgi import WSGITransport

from engine.models import Task

EXAMPLES = {"sqlite": 3, "postgresql": 3}
SEEDS = {"sqlite": 56, "postgresql": 57}  # different examples on each database (see above)
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
# Operations whose schema-valid requests may break a rule JSON Schema cannot state: why, for each.
POSITIVE_422 = {
    "POST /api/v1/reports": "Mẫu 01's cross-field and clock rules (age and date of birth, receipt not in the "
                            "future nor older than CASE56_RECEIPT_MAX_AGE_DAYS, the incident commune given once)",
    "POST /api/v1/tasks/{task_id}/complete": "the form depends on the task's step (its form_schema)",
    "POST /api/v1/tasks/{task_id}/reassign": "the assignee must be one of GET /cases/{id}/assignees",
    "GET /api/v1/statistics": "a period or date range the statistics cannot cover (from after to, years "
                              "without data), a unit outside the caller's scope",
    "POST /api/v1/reports/candidates": "the same body as POST /reports, checked by the same Mẫu 01 rules",
    "POST /api/v1/tasks/{task_id}/assign": "the assignee must be one of GET /tasks/{id}/holders",
    "POST /api/v1/cases/{case_id}/releases": "which fields are free texts depends on the step's form, and a text "
                                             "is marked only once its step is completed and the field holds one",
    "DELETE /api/v1/cases/{case_id}/releases": "the same: the field must be a free text of that step's form",
    "POST /api/v1/cases/{case_id}/separation-requests": "the separation request form's rules across fields and "
                                                        "against the clock (information received not in the future)",
    "GET /api/v1/cases": "q: a name query needs 2 letters once marks and punctuation are set aside (folded as "
                         "engine.children.fold); JSON Schema counts characters",
}
# Every operation of the document, all of them run (tests/api/test_api_docs.py lists the same).
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
    "POST /api/v1/cases/{case_id}/separation-requests", "POST /api/v1/cases/{case_id}/plan-adjustments",
    "GET /api/v1/cases", "POST /api/v1/reports/candidates",
}


@pytest.fixture
def wsgi_transport(monkeypatch):
    original = WSGITransport.send

    def _wsgi_send(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        # The requests session offers "gzip, deflate, br"; the app then compresses (web/assets.py), and this
        # in-process transport, unlike an HTTP client, hands the body on undecoded. Ask for it plain: the
        # compressed answers are tested in tests/web/test_delivery.py.
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "Accept-Encoding": "identity"}
        return original(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", _wsgi_send)


def _config(headers: dict[str, str], db_kind: str) -> SchemathesisConfig:
    examples = int(os.environ.get("CASE56_SCHEMATHESIS_EXAMPLES") or EXAMPLES[db_kind])
    return SchemathesisConfig.from_dict({
        "seed": SEEDS[db_kind], "headers": headers, "suppress-health-check": ["all"],
        "generation": {"max-examples": examples, "database": "none"},
        "phases": {"stateful": {"max-steps": 4 * examples}},
        "operations": [{"include-name": name, "checks": {"positive_data_acceptance": {
            "expected-statuses": [*ACCEPTED, "422"]}}} for name in POSITIVE_422],
    })


def _world(world) -> int:
    """Something for the requests to find: fresh, overdue and advanced cases in both communes; a task's id."""
    case_id = world.open()
    world.open(hours_ago=72)
    world.drive(world.open(hours_ago=3), stop_at="detailed_assessment")
    world.open("T01-X02")
    return world.open_task(case_id).id


def _run(schema) -> tuple[dict, Counter, dict, Counter, list[str]]:
    """Run every phase and check; (summary, failures, an example per failure, statuses, engine errors)."""
    failures: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], str] = {}
    statuses: Counter[tuple[str, int]] = Counter()
    phases: Counter[str] = Counter()
    problems: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            phases[str(event.phase.value)] += len(event.recorder.cases)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses[(interaction.request.method, interaction.response.status_code)] += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        key = (event.label or "stateful", check.name, check.failure_info.failure.title)
                        failures[key] += 1
                        failure = check.failure_info.failure
                        examples.setdefault(key, f"{failure.message}\n{check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            problems.append(f"{getattr(event, 'label', '')}: {getattr(event, 'info', None) or event}")
    labels = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())}
    summary = {"operations": len(labels), "test_cases": sum(phases.values()), "failures": sum(failures.values()),
               "by_phase": dict(phases)}
    return summary, failures, examples, statuses, problems


def test_api_matches_its_openapi_document(app, db_kind, world, auth, wsgi_transport, record_property):
    task_id = _world(world)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=_config(auth("canbo"), db_kind))
    labels = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())}
    assert labels == OPERATIONS
    summary, failures, examples, statuses, problems = _run(schema)
    record_property("schemathesis", summary)
    print(f"\nschemathesis: {summary}", *sorted(f"{m} → {s}: {n}" for (m, s), n in statuses.items()), sep="\n  ")
    assert not problems, problems
    assert not failures, "\n\n".join(f"{n}× {key}\n{examples[key]}" for key, n in failures.items())
    # The run reached real answers, not only refusals, in every phase.
    assert {("POST", 201), ("GET", 200), ("PUT", 200)} <= set(statuses)
    assert all(summary["by_phase"].get(name) for name in ("examples", "coverage", "fuzzing", "stateful")), summary
    assert world.get(Task, task_id).state in ("ready", "completed")

