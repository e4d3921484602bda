"""`case56 attachments …` (encryption at rest) and `case56 retention …` (what retention allows to destroy).

    case56 attachments new-key --id 2026b        print a fresh key entry for CASE56_ATTACHMENT_KEYS
    case56 attachments status                    files by key id (and plaintext ones still waiting)
    case56 attachments encrypt                   seal the files stored before encryption (once, after upgrading)
    case56 attachments rotate-key                re-seal every file under the first key of CASE56_ATTACHMENT_KEYS
    case56 attachments purge-orphans [--dry-run] delete files no kept attachment names (a destruction or an
                                                 upload interrupted before its row was saved), older than an hour
    case56 retention status                      the policy, the cases past retention, holds and restrictions

The attachment commands work on the files only (the database is not touched); each file is checked against
its SHA-256 before it is rewritten, and rewritten atomically, so a run can be interrupted and repeated. A run
is recorded in the audit trail. Destruction itself is done in the administration pages, by two administrators.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from engine import audit, crypto, restriction, retention
from engine.errors import EngineError
from engine.models import Attachment


def init_app(app: Flask) -> None:
    from web import attachments as storage
    from web.extensions import db

    def keyring() -> crypto.Keyring:
        try:
            return storage.keyring_of(current_app.config.get("CASE56_ATTACHMENT_KEYS"))
        except crypto.KeyringError as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)

    @app.cli.group("attachments", help="Tệp đính kèm mã hoá / attachments encrypted at rest.")
    def attachments_group() -> None:
        pass

    @attachments_group.command("new-key", help="Print a new key entry (id:base64) for CASE56_ATTACHMENT_KEYS.")
    @click.option("--id", "key_id", required=True, help="Key id, e.g. the year and a letter: 2026b.")
    def new_key(key_id: str) -> None:
        try:
            click.echo(crypto.new_key_line(key_id))
        except crypto.KeyringError as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)

    @attachments_group.command("status", help="Count stored files by the key they are sealed with.")
    def status() -> None:
        ring = keyring()
        counts: Counter[str] = Counter()
        for _sha, path in storage.stored_files(current_app.config["CASE56_ATTACHMENTS"]):
            with path.open("rb") as source:
                counts[crypto.key_id_of(source.read(64)) or "(plaintext)"] += 1
        click.echo(f"current key: {ring.current or '(none: set CASE56_ATTACHMENT_KEYS)'}")
        for key_id, n in sorted(counts.items()):
            note = "" if key_id in ring.keys or key_id == "(plaintext)" else "  MISSING KEY / THIẾU KHOÁ"
            click.echo(f"{key_id}: {n}{note}")

    def run(rotate: bool) -> None:
        ring = keyring()
        try:
            report = storage.reseal(Path(current_app.config["CASE56_ATTACHMENTS"]), ring, rotate=rotate)
        except EngineError as exc:
            click.echo(exc.message_en + " / " + exc.message_vi, err=True)
            sys.exit(2)
        audit.append(db.session, "system", "attachments_rotated" if rotate else "attachments_encrypted", None,
                     {"key": ring.current, "encrypted": report.encrypted, "rotated": report.rotated,
                      "current": report.current, "failed": len(report.failed)})
        db.session.commit()
        click.echo(f"key {ring.current}: encrypted={report.encrypted} rotated={report.rotated} "
                   f"already={report.current} failed={len(report.failed)}")
        for sha256, why in report.failed.items():
            click.echo(f"  {sha256}: {why}", err=True)
        if report.failed:
            sys.exit(1)

    @attachments_group.command("encrypt", help="Seal the files stored before encryption under the current key.")
    def encrypt() -> None:
        run(rotate=False)

    @attachments_group.command("rotate-key", help="Re-seal every file under the first key of CASE56_ATTACHMENT_KEYS "
                                                  "(keep the old key listed until this has run).")
    def rotate_key() -> None:
        run(rotate=True)

    @attachments_group.command("purge-orphans", help="Delete stored files that no kept attachment names "
                                                     "(older than an hour, so no upload in progress is touched).")
    @click.option("--dry-run", is_flag=True, help="List them only.")
    def purge_orphans(dry_run: bool) -> None:
        root = Path(current_app.config["CASE56_ATTACHMENTS"])
        kept = Attachment.file_name != retention.DESTROYED_NAME
        named = set(db.session.scalars(select(Attachment.sha256).where(kept)))
        cutoff = time.time() - 3600
        orphans = [(sha, path) for sha, path in storage.stored_files(root)
                   if sha not in named and path.stat().st_mtime < cutoff]
        for sha, _path in orphans:
            click.echo(f"{'would remove' if dry_run else 'removed'} {sha}")
            if not dry_run:
                storage.remove(root, sha)
        if orphans and not dry_run:
            audit.append(db.session, "system", "attachments_purged", None, {"files": [s for s, _p in orphans]})
            db.session.commit()
        click.echo(f"orphans: {len(orphans)}")

    @app.cli.group("retention", help="Lưu trữ và huỷ hồ sơ / retention and destruction.")
    def retention_group() -> None:
        pass

    @retention_group.command("status", help="The retention policy and the cases past it (nothing is destroyed).")
    def retention_status() -> None:
        try:
            policy = retention.Policy.load(current_app.config.get("CASE56_RETENTION_FILE") or None)
        except (OSError, ValueError) as exc:
            click.echo(f"retention policy: {exc}", err=True)
            sys.exit(2)
        for record in retention.RECORD_TYPES:
            kept = policy.records[record]
            click.echo(f"{record}: {kept.name} ({kept.en})")
        due = retention.eligible(db.session, policy)
        click.echo(f"past retention: {len(due)} case(s)")
        for case, records in due:
            click.echo(f"  {case.number} closed {case.closed_at:%d/%m/%Y}: {', '.join(records)}")
        restricted = restriction.history(db.session, active_only=True)
        click.echo(f"restricted: {len(restricted)} case(s)")
        for row, number in restricted:
            click.echo(f"  {number}: {row.authority}, {row.document_number} ({row.document_date:%d/%m/%Y})")
