"""Backup and restore of a whole case56 installation, portable between SQLite and PostgreSQL.

A backup is one `.tar.gz`: `manifest.json` (schema revision, row counts, a SHA-256 per table over its rows
in key order, the audit chain's head), `tables/<table>.jsonl` (every row, JSON-native: datetimes ISO,
bytes base64) and `attachments/…` (the evidence files, as stored). `restore` loads it into an empty
database migrated to the same revision, puts the files back and then proves the result: every table's
digest equals the manifest's, the audit chain verifies, and `engine.check` finds nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Column, Date, LargeBinary, Table, func, select, text
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.models import Base, UTCDateTime

FORMAT = 1
BATCH = 2000


class BackupError(RuntimeError):
    pass


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)  # parents before children


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime):
        return clock.parse_moment(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value["$b64"])
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def _rows(session: Session, table: Any) -> Iterator[dict[str, Any]]:
    """Every row of `table` in primary-key order, JSON-native, in batches (memory stays flat)."""
    keys = list(table.primary_key.columns)
    offset = 0
    while True:
        batch = session.execute(select(table).order_by(*keys).limit(BATCH).offset(offset)).mappings().all()
        if not batch:
            return
        for row in batch:
            yield {name: _encode(value) for name, value in row.items()}
        offset += len(batch)


def _line(row: dict[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


def _revision(session: Session) -> str | None:
    try:
        return session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - a database created without migrations has no revision
        session.rollback()
        return None


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(clock.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


def backup(session: Session, out: Path, attachments: Path | None = None) -> dict[str, Any]:
    """Write the whole database (and the attachment files) to `out`; returns the manifest."""
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": clock.now().isoformat(),
                                "revision": _revision(session), "tables": {}, "attachments": []}
    with tarfile.open(out, "w:gz") as archive:
        for table in _tables():
            digest, count, body = hashlib.sha256(), 0, io.BytesIO()
            for row in _rows(session, table):
                line = _line(row)
                digest.update(line)
                body.write(line)
                count += 1
            _add(archive, f"tables/{table.name}.jsonl", body.getvalue())
            manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
        if attachments and attachments.exists():
            for path in sorted(p for p in attachments.rglob("*") if p.is_file() and not p.name.startswith(".")):
                relative = path.relative_to(attachments).as_posix()
                data = path.read_bytes()
                manifest["attachments"].append({"path": relative, "sha256": hashlib.sha256(data).hexdigest()})
                _add(archive, f"attachments/{relative}", data)
        head = session.get(audit.AuditHead, 1)
        manifest["audit_head"] = head.hash if head else audit.GENESIS
        _add(archive, "manifest.json", json.dumps(manifest, indent=1).encode("utf-8"))
    return manifest


def _digests(session: Session) -> dict[str, dict[str, Any]]:
    result = {}
    for table in _tables():
        digest, count = hashlib.sha256(), 0
        for row in _rows(session, table):
            digest.update(_line(row))
            count += 1
        result[table.name] = {"rows": count, "sha256": digest.hexdigest()}
    return result


def _member(archive: tarfile.TarFile, name: str) -> IO[bytes]:
    """A regular file of the archive; a link or folder under that name (a crafted archive) is refused."""
    member = archive.extractfile(name)
    if member is None:
        raise BackupError(f"{name} is not a file in the backup")
    return member


def restore(session: Session, archive_path: Path, attachments: Path | None = None) -> dict[str, Any]:
    """Load a backup into an empty, migrated database; raise BackupError unless it comes back identical."""
    with tarfile.open(archive_path, "r:gz") as archive:
        manifest = json.loads(_member(archive, "manifest.json").read())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        revision = _revision(session)
        if manifest["revision"] != revision:
            raise BackupError(f"the backup is of schema {manifest['revision']}, this database is at {revision}: "
                              "run `case56 db upgrade` to the same revision first")
        for table in _tables():
            if session.scalar(select(func.count()).select_from(table)):
                raise BackupError(f"the database is not empty (table {table.name}); restore needs an empty one")
        for table in _tables():
            member = _member(archive, f"tables/{table.name}.jsonl")
            columns = {c.name: c for c in table.columns}
            batch: list[dict[str, Any]] = []
            for line in member:
                row = json.loads(line)
                batch.append({k: _decode(columns[k], v) for k, v in row.items()})
                if len(batch) >= BATCH:
                    session.execute(table.insert(), batch)
                    batch = []
            if batch:
                session.execute(table.insert(), batch)
        if session.get_bind().dialect.name == "postgresql":
            # Identity sequences continue after the restored ids.
            for table in _tables():
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
                    session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                        f"COALESCE((SELECT max({pk[0].name}) FROM {table.name}), 0) + 1, false)"))
        session.commit()
        if attachments is not None:
            for item in manifest["attachments"]:
                data = _member(archive, f"attachments/{item['path']}").read()
                if hashlib.sha256(data).hexdigest() != item["sha256"]:
                    raise BackupError(f"attachment {item['path']} is damaged in the backup")
                target = attachments / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    found = _digests(session)
    for name, expected in manifest["tables"].items():
        if found.get(name) != expected:
            raise BackupError(f"table {name} differs after restore: {found.get(name)} != {expected}")
    problems = audit.verify(session)
    if problems:
        raise BackupError(f"audit chain broken after restore at row {problems[0].entry_id}")
    return manifest
