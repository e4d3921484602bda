"""Backup and restore bring back cases, tasks, timers, attachments and the audit chain identically —
also across databases (SQLite ⇄ PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from engine import audit, clock, schema
from engine.backup import BackupError, backup, restore
from engine.check import check
from engine.models import Attachment, AuditHead, Case, make_engine
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
