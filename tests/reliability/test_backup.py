"""Backup and restore bring back cases, tasks, timers, attachments and the audit chain identically —
also across databases (SQLite ⇄ PostgreSQL) — and a backup taken while people keep working reads one
consistent snapshot (audited actions committed during it: the archive restores, its chain verifies)."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from engine import audit, clock, schema
from engine.backup import BackupError, backup, restore
from engine.check import check
from engine.models import Attachment, AuditEntry, AuditHead, Case, make_engine
from tests.conftest import _prepare, _truncate
from web import demo

PDF = b"%PDF-1.4\n% case56 test\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _populate(case_engine, session, attachments: Path) -> None:
    demo.seed_people(session, "pbkdf2:sha256:1000")
    people = demo.cast(session)
    for stop in ("verify", "draft_plan", None):
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
        if stop != "verify":
            demo.drive(case_engine, session, case, people, stop_at=stop)
    sha = hashlib.sha256(PDF).hexdigest()
    (attachments / sha[:2]).mkdir(parents=True)
    (attachments / sha[:2] / sha).write_bytes(PDF)
    session.add(Attachment(case_id=case.id, file_name="giay-kham.pdf", content_type="application/pdf",
                           size=len(PDF), sha256=sha, uploaded_by="canbo", uploaded_at=clock.now()))
    session.commit()


@pytest.mark.parametrize("target_kind", ["sqlite", "postgresql"])
def test_backup_restores_identically_across_databases(case_engine, session, db_kind, tmp_path, target_kind,
                                                       tmp_path_factory):
    source_files = tmp_path / "files-a"
    _populate(case_engine, session, source_files)
    archive = tmp_path / "case56.tar.gz"
    manifest = backup(session, archive, source_files)
    assert manifest["tables"]["case_file"]["rows"] == 3 and len(manifest["attachments"]) == 1

    # An empty target: the other backend's test database, emptied, at the same revision.
    if target_kind == db_kind:
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}" if db_kind == "sqlite" else None
        if target_url:
            schema.upgrade(target_url)
            target = make_engine(target_url)
        else:  # PostgreSQL to PostgreSQL: a second schema of its own
            name = f"case56_restore_{abs(hash(tmp_path)) % 10**8}"
            from tests.conftest import PG_URL

            with make_engine(PG_URL).begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {name}"))
            target_url = f"{PG_URL}?options=-csearch_path%3D{name}"
            schema.upgrade(target_url)
            target = make_engine(target_url)
    else:
        _url, target = _prepare(target_kind, tmp_path_factory.getbasetemp())
        _truncate(target, target_kind)
    restored_files = tmp_path / "files-b"
    with sessionmaker(bind=target)() as other:
        restore(other, archive, restored_files)
        assert other.scalar(select(func.count()).select_from(Case)) == 3
        assert other.get(AuditHead, 1).hash == manifest["audit_head"]
        assert audit.verify(other) == []
        assert list(check(case_engine, other)) == []
        # The restored installation keeps working: numbering and ids continue.
        people = demo.cast(other)
        case = case_engine.open_case(other, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
        assert case.number.endswith("-0004")
        assert audit.verify(other) == []
    sha = hashlib.sha256(PDF).hexdigest()
    assert (restored_files / sha[:2] / sha).read_bytes() == PDF
    with sessionmaker(bind=target)() as other, pytest.raises(BackupError, match="not empty"):
        restore(other, archive, restored_files)


def test_a_damaged_backup_is_refused(case_engine, session, tmp_path):
    import tarfile

    _populate(case_engine, session, tmp_path / "files")
    archive = tmp_path / "b.tar.gz"
    backup(session, archive, tmp_path / "files")
    # Rewrite the archive with one audit row altered.
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "tables/audit.jsonl":
                data = data.replace(b'"actor":"tiepnhan"', b'"actor":"mallory"', 1)
                member.size = len(data)
            import io

            dst.addfile(member, io.BytesIO(data))
    target_url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    schema.upgrade(target_url)
    with sessionmaker(bind=make_engine(target_url))() as other, pytest.raises(BackupError, match="differs"):
        restore(other, damaged, tmp_path / "restored")


def _empty_database(kind: str, tmp_path: Path):
    """An empty database of `kind` migrated to the current revision, apart from the test's own."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    else:
        from tests.conftest import PG_URL

        name = f"case56_restore_{abs(hash(tmp_path)) % 10**8}"
        with make_engine(PG_URL).begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {name}"))
        url = f"{PG_URL}?options=-csearch_path%3D{name}"
    schema.upgrade(url)
    return make_engine(url)


def test_a_backup_under_load_is_one_consistent_snapshot(case_engine, session, session_factory, db_kind, tmp_path):
    """A writer thread commits audited actions (reports opened, audit entries) the whole time the backup runs,
    and after every table the backup waits until the writer has committed again, so writes land between the
    reads of any two tables. The archive restores: every table equals the manifest, the chain verifies, the
    counts are those of one moment (each case's opening audited, nothing half there)."""
    _populate(case_engine, session, tmp_path / "files")
    committed = threading.Semaphore(0)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        with session_factory() as other:
            people = demo.cast(other)
            i = 0
            try:
                while not stop.is_set():
                    i += 1
                    if i % 3 == 0:
                        case_engine.open_case(other, people.actors["tiepnhan"], "T01-X01",
                                              demo.sample("mau_01", clock.now()))
                    else:
                        audit.append(other, "canbo", "dossier_downloaded", None, {"during_backup": i})
                        other.commit()
                    committed.release()
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)
                committed.release()

    tables_read: list[str] = []

    def between_tables(table: str, _rows: int) -> None:
        tables_read.append(table)
        assert committed.acquire(timeout=30), "the writer made no progress"
        while committed.acquire(blocking=False):  # drain: the next wait needs a commit after this point
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    archive = tmp_path / "under-load.tar.gz"
    try:
        assert committed.acquire(timeout=30)  # the writer is under way before the backup starts
        started = time.monotonic()
        manifest = backup(session, archive, tmp_path / "files", progress=between_tables)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert len(tables_read) == len(manifest["tables"]) > 10
    # The writer kept going during the backup: the live database has moved on from the snapshot.
    session.expire_all()
    live_audit = session.scalar(select(func.count()).select_from(AuditEntry))
    assert live_audit >= manifest["tables"]["audit"]["rows"] + len(tables_read), (live_audit, elapsed)

    target = _empty_database(db_kind, tmp_path)
    with sessionmaker(bind=target)() as restored:
        restore(restored, archive, tmp_path / "restored-files")  # raises unless identical and the chain verifies
        assert audit.verify(restored) == []
        assert restored.scalar(select(func.count()).select_from(AuditEntry)) == manifest["tables"]["audit"]["rows"]
        assert restored.get(AuditHead, 1).hash == manifest["audit_head"]
        cases = restored.scalar(select(func.count()).select_from(Case))
        assert cases == manifest["tables"]["case_file"]["rows"]
        opened = restored.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "case_opened"))
        assert opened == cases  # each case with its audit entry: no table read at another moment
        assert list(check(case_engine, restored)) == []
    target.dispose()


def test_backup_pages_by_key_not_offset(case_engine, session, tmp_path, monkeypatch):
    """More rows than one page: every row once, in key order, each page asked for by key."""
    import engine.backup as backup_module

    monkeypatch.setattr(backup_module, "BATCH", 7)
    for i in range(30):
        audit.append(session, "canbo", "dossier_downloaded", None, {"i": i})
    session.commit()
    statements: list[str] = []
    from sqlalchemy import event

    bind = session.get_bind()
    listener = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(bind, "before_cursor_execute", listener)
    try:
        manifest = backup(session, tmp_path / "paged.tar.gz")
    finally:
        event.remove(bind, "before_cursor_execute", listener)
    audit_reads = [s for s in statements if "FROM audit " in s or "FROM audit\n" in s]
    assert manifest["tables"]["audit"]["rows"] == session.scalar(select(func.count()).select_from(AuditEntry)) >= 30
    # ceil(rows / 7) full or partial pages; every page after the first starts after the last key read.
    # (SQLite renders LIMIT with "OFFSET 0"; no page skips rows by count.)
    assert len(audit_reads) >= 5
    assert all("audit.id >" in s for s in audit_reads[1:]) and "audit.id >" not in audit_reads[0]
