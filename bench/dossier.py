"""Benchmark of the case dossier PDF (web.pdf.dossier.build): milliseconds per dossier and peak memory.

    .venv/bin/python -m bench.dossier [--runs 10] [--png DIR] [--keep DIR]

Two cases on a temporary SQLite database (created with engine.schema.upgrade):
  small — a typical case driven to closure by web.demo.drive (two plan activities, ~40 audit rows);
  large — three plan cycles (two reviews send the case back to a new plan), 40 activities in all, and
          audit rows added with engine.audit.append up to 500.
Times are the median and best of --runs builds after one warm-up (wall clock and process CPU); peak memory is
the tracemalloc peak of one more build. --png renders the first pages of each PDF with pdftoppm (Debian
poppler-utils) so a person can look at them; --keep writes the PDFs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import audit, clock, schema
from engine.models import AuditEntry, Task, make_session_factory
from engine.runtime import Engine
from web import demo
from web.pdf import dossier

PLAN_SIZES = (14, 13, 13)  # activities of the three plans: 40 in all
AUDIT_ROWS = 500


def activities(count: int, at: Any) -> list[dict[str, Any]]:
    day = clock.local(at).date()
    return [{"measure": f"Hoạt động hỗ trợ số {n + 1}: tư vấn, thăm gia đình, theo dõi ở trường",
             "level": "support" if n % 2 else "intervention", "assignee": ("truonghoc", "yte")[n % 2],
             "assignee_name": ("Trường THCS Phan Đình Phùng", "Trạm Y tế phường")[n % 2],
             "responsible_body": "UBND phường", "provider": ("T01-DV-01", None)[n % 2],
             "start": day.isoformat(), "end": (day + timedelta(days=10 + n)).isoformat(),
             "resources": "Ngân sách xã", "cost": 100000 * (n + 1), "expected_result": "Trẻ an toàn, ổn định"}
            for n in range(count)]


def make_cases(session: Any, engine: Engine) -> tuple[int, int]:
    demo.seed_people(session, "pbkdf2:sha256:1000")
    people = demo.cast(session)
    intake = people.actors["tiepnhan"]
    now = clock.now()
    small = engine.open_case(session, intake, "T01-X01", demo.sample("mau_01", now - timedelta(days=8)))
    demo.drive(engine, session, small, people)

    large = engine.open_case(session, intake, "T01-X01", demo.sample("mau_01", now - timedelta(days=20),
                                                                     crime_suspected=True))
    replan = {"conclusion": "replan", "no_longer_at_risk": False, "psychological_stable": False}
    demo.drive(engine, session, large, people, max_steps=200, choices={
        "mau_02": {"emergency": True, "danger_description": "Trẻ bị đánh nhiều lần, nguy cơ bị đánh tiếp."},
        "mau_04": [{"activities": activities(n, now)} for n in PLAN_SIZES],
        "mau_06": [replan, replan, {"conclusion": "close"}],
        "plan_end": {"decision": "end"},
    })
    readers = [people.actors[u] for u in ("thanhtra", "canbo", "chutich", "giamsat")]
    count = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.case_id == large.id))
    for n in range(AUDIT_ROWS - count):
        reader = readers[n % len(readers)]
        audit.append(session, reader.username, "case_view", large.id, {"role": reader.role})
    session.commit()
    return small.id, large.id


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def measure(session: Any, engine: Engine, case_id: int, runs: int) -> dict[str, Any]:
    options = dossier.Options(actor=demo.cast(session).actors["thanhtra"], generated_by="bench")
    pdf = dossier.build(session, case_id, options, engine=engine)  # warm-up: fonts, process version, caches
    walls, cpus = [], []
    for _ in range(runs):
        session.expire_all()
        wall, cpu = time.perf_counter(), time.process_time()
        dossier.build(session, case_id, options, engine=engine)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    session.expire_all()
    tracemalloc.start()
    dossier.build(session, case_id, options, engine=engine)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tasks = session.scalar(select(func.count()).select_from(Task).where(Task.case_id == case_id))
    rows = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.case_id == case_id))
    return {"pdf": pdf, "wall": walls, "cpu": cpus, "peak": peak, "tasks": tasks, "audit": rows,
            "pages": pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--png", type=Path, help="render the first pages of each dossier to PNG here")
    parser.add_argument("--keep", type=Path, help="write the PDFs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        schema.upgrade(url)
        engine = Engine()
        with make_session_factory(url)() as session:
            started = time.perf_counter()
            small, large = make_cases(session, engine)
            print(f"cases made in {time.perf_counter() - started:.1f} s (SQLite, {tmp})")
            print(f"{'case':<6} {'steps':>5} {'audit':>5} {'pages':>5} {'KB':>6} {'median ms':>10} {'best ms':>8} "
                  f"{'cpu ms':>7} {'peak MB':>8}")
            for name, case_id in (("small", small), ("large", large)):
                result = measure(session, engine, case_id, args.runs)
                print(f"{name:<6} {result['tasks']:>5} {result['audit']:>5} {result['pages']:>5} "
                      f"{len(result['pdf']) // 1024:>6} {median(result['wall']):>10.0f} "
                      f"{min(result['wall']):>8.0f} {median(result['cpu']):>7.0f} "
                      f"{result['peak'] / 1024 / 1024:>8.1f}")
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / f"dossier-{name}.pdf").write_bytes(result["pdf"])
                if args.png:
                    if not shutil.which("pdftoppm"):
                        sys.exit("pdftoppm missing: apt-get install -y poppler-utils")
                    args.png.mkdir(parents=True, exist_ok=True)
                    pdf = args.png / f"dossier-{name}.pdf"
                    pdf.write_bytes(result["pdf"])
                    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "4", str(pdf),
                                    str(args.png / f"dossier-{name}")], check=True)
            if args.png:
                print(f"PNG pages in {args.png}")


if __name__ == "__main__":
    main()
