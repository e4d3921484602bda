"""Backup and restore of a whole case56 installation, portable between SQLite and PostgreSQL.

A backup is one `.tar.gz`: `manifest.json` (schema revision, row counts, a SHA-256 per table over its rows
in key order, the audit chain's head), `tables/<table>.jsonl` (every row, JSON-native: datetimes ISO,
bytes base64) and `attachments/…` (the evidence files, as stored). `restore` loads it into an empty
database migrated to the same revision, puts the files back and then proves the result: every table's
digest equals the manifest's, the audit chain verifies, and `engine.check` finds nothing.

A backup reads one consistent snapshot while the installation keeps working: on PostgreSQL one REPEATABLE READ,
READ ONLY transaction (what pg_dump does), on SQLite one read transaction (WAL: writers carry on, the reader keeps
its snapshot). Every table is read in primary-key pages (`WHERE key > last`, never OFFSET, which re-reads and,
outside one snapshot, skips or repeats rows) and streamed row by row to a temporary file, so memory stays flat
however large a table is. For large PostgreSQL deployments docs/operations.md also gives pg_dump / pgBackRest.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Column, Connection, Date, LargeBinary, Table, and_, func, or_, select, text
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


def _after(keys: list[Column[Any]], last: tuple[Any, ...]) -> Any:
    """`(k1, k2, …) > last` spelled out (row-value comparison is not portable): the keyset page condition."""
    clauses = []
    for i, key in enumerate(keys):
        clauses.append(and_(*(keys[j] == last[j] for j in range(i)), key > last[i]))
    return or_(*clauses)


def _rows(reader: Session | Connection, table: Any) -> Iterator[dict[str, Any]]:
    """Every row of `table` in primary-key order, JSON-native, a page of BATCH rows at a time by key."""
    keys = list(table.primary_key.columns)
    last: tuple[Any, ...] | None = None
    while True:
        query = select(table).order_by(*keys).limit(BATCH)
        if last is not None:
            query = query.where(_after(keys, last))
        batch = reader.execute(query).mappings().all()
        for row in batch:
            yield {name: _encode(value) for name, value in row.items()}
        if len(batch) < BATCH:
            return
        last = tuple(batch[-1][key.name] for key in keys)


@contextmanager
def snapshot(session: Session) -> Iterator[Connection]:
    """A connection inside one read-only transaction that sees the database as of its first read."""
    bind = session.get_bind()
    if isinstance(bind, Connection):  # already inside the caller's transaction: that is the snapshot
        yield bind
        return
    if bind.dialect.name == "postgresql":
        options: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        with bind.connect().execution_options(**options) as conn, conn.begin():
            yield conn
        return
    with bind.connect() as conn:
        # pysqlite opens transactions only before writes: BEGIN here, so every read below shares one snapshot.
        conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.exec_driver_sql("ROLLBACK")


def _line(row: dict[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


def _revision(reader: Session | Connection) -> str | None:
    try:
        with reader.begin_nested():  # a database created without migrations has no such table
            return reader.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001
        return None


def _add(archive: tarfile.TarFile, name: str, data: bytes | IO[bytes], size: int | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data) if isinstance(data, bytes) else int(size or 0)
    info.mtime = int(clock.now().timestamp())
    archive.addfile(info, io.BytesIO(data) if isinstance(data, bytes) else data)


def backup(session: Session, out: Path, attachments: Path | None = None,
           progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Write the whole database (one snapshot) and the attachment files to `out`; returns the manifest.
    `progress(table, rows)` is called after each table."""
    with snapshot(session) as reader, tarfile.open(out, "w:gz") as archive:
        manifest: dict[str, Any] = {"format": FORMAT, "created_at": clock.now().isoformat(),
                                    "revision": _revision(reader), "tables": {}, "attachments": []}
        for table in _tables():
            digest, count = hashlib.sha256(), 0
            with tempfile.TemporaryFile() as body:  # a table streams to disk, never whole in memory
                for row in _rows(reader, table):
                    line = _line(row)
                    digest.update(line)
                    body.write(line)
                    count += 1
                size = body.tell()
                body.seek(0)
                _add(archive, f"tables/{table.name}.jsonl", body, size)
            manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
            if progress is not None:
                progress(table.name, count)
        head = reader.execute(select(audit.AuditHead.hash).where(audit.AuditHead.id == 1)).scalar()
        manifest["audit_head"] = head or audit.GENESIS
        if attachments and attachments.exists():
            # Files are named by their content's hash and never rewritten: one added meanwhile is only extra.
            for path in sorted(p for p in attachments.rglob("*") if p.is_file() and not p.name.startswith(".")):
                relative = path.relative_to(attachments).as_posix()
                data = path.read_bytes()
                manifest["attachments"].append({"path": relative, "sha256": hashlib.sha256(data).hexdigest()})
                _add(archive, f"attachments/{relative}", data)
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
