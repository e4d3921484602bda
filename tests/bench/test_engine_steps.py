"""The step benchmark (bench/engine_steps.py): its rounds interleave every measure, its figures are ordered
(min ≤ median ≤ max), its ratios divide by the state-format floor of the same round, and the document it writes
lists every step target; a small real run on SQLite and PostgreSQL (both floors, case56, the API over HTTP)
follows the recorded path with no error."""

from __future__ import annotations

import os
import tempfile

import pytest
from sqlalchemy import text

from bench import __main__ as bench_main
from bench import engine_steps as es
from bench.name_search import SECTION as NAME_SEARCH
from bench.synthetic import fresh_database
from engine.models import make_engine

PG_URL = os.environ.get("CASE56_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def test_every_measure_runs_once_in_every_round_in_a_rotated_order():
    names = ["a", "b", "c", "d"]
    rounds = es.rotation(names, 5)
    assert len(rounds) == 5
    assert all(sorted(order) == names for order in rounds)
    assert [order[0] for order in rounds] == ["a", "b", "c", "d", "a"]  # each measure leads a round in turn

    calls: list[str] = []

    def measure(name: str, rate: float):
        def call(n: int) -> es.Sample:
            calls.append(name)
            return es.Sample(steps=12 * n, seconds=12 * n / rate)
        return call

    samples, loads = es.run_rounds({"state_floor": measure("state_floor", 100), "x": measure("x", 50)}, 3, 2)
    assert calls == ["state_floor", "x", "x", "state_floor", "state_floor", "x"]
    assert len(loads) == 3 and all(load >= 0 for load in loads)
    assert {name: len(runs) for name, runs in samples.items()} == {"state_floor": 3, "x": 3}
    assert all(s.steps == 24 for runs in samples.values() for s in runs)


def test_figures_are_ordered_and_ratios_use_the_same_round():
    floor = [es.Sample(10, 0.1), es.Sample(10, 0.2), es.Sample(10, 0.05)]  # 100, 50, 200 steps/s
    case56 = [es.Sample(10, 0.2, statements=[7, 9]), es.Sample(10, 0.25, statements=[8]),
              es.Sample(10, 0.1, statements=[6])]  # 50, 40, 100 steps/s
    http = [es.Sample(10, 0.5, latencies_ms=[40.0] * 9 + [90.0]), es.Sample(10, 0.4, latencies_ms=[30.0] * 10),
            es.Sample(10, 1.0, latencies_ms=[70.0] * 10, errors=["500: b'boom'"])]
    rows = es.rows_for({"state_floor": floor, "case56": case56, "http": http},
                       {"state_floor": f"{es.STATE_FLOOR}|-", "case56": f"{es.CASE56}|sqlite",
                        "http": f"{es.HTTP}|sqlite"})
    by = {row["measure"]: row for row in rows}
    for row in rows:
        assert row["steps/s min"] <= row["steps/s median"] <= row["steps/s max"]
        assert row["rounds"] == 3
    assert by[es.STATE_FLOOR]["steps/s median"] == 100.0
    assert "ratio to (2) median" not in by[es.STATE_FLOOR]
    # per round: 50/100, 40/50, 100/200 → 0.5, 0.8, 0.5 (not the ratio of the medians, 50/100)
    assert by[es.CASE56]["ratio to (2) median"] == 0.5
    assert by[es.CASE56]["ratio min–max"] == "0.5–0.8"
    assert (by[es.CASE56]["SQL/step median"], by[es.CASE56]["SQL/step mean"], by[es.CASE56]["SQL/step max"]) == (
        7.5, 7.5, 9)
    assert by[es.HTTP]["p50_ms"] <= by[es.HTTP]["p95_ms"]
    assert by[es.HTTP]["errors"] == 1 and by[es.HTTP]["first_error"].startswith("500")


def test_every_step_target_is_listed_met_not_met_or_not_measured():
    rows = [{"measure": es.CASE56, "db": "sqlite", "rounds": 5, "ratio to (2) median": 0.75, "ratio min–max": "0.7–0.8",
             "SQL/step median": 9, "SQL/step mean": 9.4, "SQL/step max": 14},
            {"measure": es.HTTP, "db": "sqlite", "rounds": 5, "p50_ms": 6.0, "p95_ms": 9.5, "errors": 0}]
    lines = es.targets(rows)
    assert len(lines) == 6  # ratio, statements and HTTP p95, on each database
    assert "≥ 0.7: **0.75**" in lines[0] and lines[0].endswith("— met")
    assert "not measured" in lines[1] and "postgresql" in lines[1]
    assert "**9**" in lines[2] and lines[2].endswith("— NOT met")
    assert "not measured" in lines[3]
    assert "**9.5 ms**" in lines[4] and lines[4].endswith("— met")
    assert "not measured" in lines[5]
    assert es.targets([]) and all("not measured" in line for line in es.targets([]))


def test_the_document_lists_every_step_target_keeps_the_name_search_and_calls_raw_no_floor(tmp_path, monkeypatch):
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Benchmarks\n\n## Figures\n\n{NAME_SEARCH}\n\nfigures kept\n\n## What was changed\n",
                   encoding="utf-8")
    rows = [{"measure": es.RAW, "db": "-", "rounds": 3, "steps/s median": 10.0},
            {"measure": es.CASE56, "db": "sqlite", "rounds": 3, "ratio to (2) median": 0.4,
             "ratio min–max": "0.3–0.5", "SQL/step median": 12, "SQL/step mean": 12.5, "SQL/step max": 20}]
    result = bench_main.Result("steps", "1. Step throughput", rows, "1 s; load 1.0", notes=["a note under it"])
    bench_main.write(out, [result], False, None, 60.0, ["--steps-only", "--out", str(out)])
    doc = out.read_text(encoding="utf-8")
    targets = doc.split("## Targets", 1)[1].split("## Figures", 1)[0]
    for phrase in ("state-format floor on sqlite ≥ 0.7: **0.4**", "state-format floor on postgresql ≥ 0.5",
                   "statements per ordinary step on sqlite", "statements per ordinary step on postgresql",
                   "p95 ≤ 10 ms on sqlite", "p95 ≤ 15 ms on postgresql"):
        assert phrase in targets
    assert targets.count("— NOT met") == 2 and targets.count("not measured in this run") == 4
    assert "raw" not in targets  # the old case56/raw ratio is no target any more
    assert "NOT a floor" in doc and "a note under it" in doc
    assert f"{NAME_SEARCH}\n\nfigures kept" in doc
    # written elsewhere (--out), the section comes from the main document
    monkeypatch.setattr(bench_main, "OUT", out)
    other = tmp_path / "other.md"
    bench_main.write(other, [result], False, None, 60.0, ["--out", str(other)])
    assert f"{NAME_SEARCH}\n\nfigures kept" in other.read_text(encoding="utf-8")


def test_a_partial_run_leaves_the_document_alone(tmp_path, monkeypatch):
    called = []
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # main() points both at a scratch folder it removes
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(bench_main, "SECTIONS", [("steps", lambda run: ("1. t", lambda: called.append(1) or []))])
    monkeypatch.setattr(bench_main, "write", lambda *a, **k: pytest.fail("a partial run wrote the document"))
    bench_main.main(["--steps-only"])
    assert called == [1]


@pytest.mark.slow
def test_a_small_run_on_both_databases_follows_the_path_with_every_measure():
    name = f"case56_test_steps_{os.getpid()}"
    url = fresh_database("postgresql", name, pg_url=PG_URL)
    try:
        rows, notes = es.run(rounds=2, cases=1, pg_url=url)
    finally:
        with make_engine(PG_URL).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    assert [(r["measure"], r["db"]) for r in rows] == [
        (es.ENGINE_FLOOR, "-"), (es.STATE_FLOOR, "-"), (es.RAW, "-"), (es.CASE56, "sqlite"), (es.HTTP, "sqlite"),
        (es.CASE56, "postgresql"), (es.HTTP, "postgresql")]
    steps = rows[0]["steps_per_round"]
    assert steps >= 10  # the main path: verification to closure with two plan activities
    for row in rows:
        assert row["rounds"] == 2 and row["steps_per_round"] == steps
        assert 0 < row["steps/s min"] <= row["steps/s median"] <= row["steps/s max"]
    for row in rows[3:]:
        if row["measure"] == es.CASE56:
            assert row["SQL/step median"] > 0
        else:
            assert row["errors"] == 0 and 0 < row["p50_ms"] <= row["p95_ms"]
    assert any(note.startswith(f"Path of every case ({steps} steps)") for note in notes)
    assert len(es.targets(rows)) == 6
