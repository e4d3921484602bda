"""The audit trail: append in the caller's transaction, verify the whole chain.

Rows are chained through one head row that every append updates first, so concurrent writers queue on
that row (PostgreSQL row lock, SQLite's single writer) and the chain never forks. Editing or deleting a
row breaks the chain at that row; deleting the newest rows breaks it at the head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def digest(prev_hash: str, entry_id: int, case_id: int | None, at: datetime, actor: str, action: str,
            details: dict[str, Any]) -> str:
    payload = json.dumps(
        [prev_hash, entry_id, case_id, clock.parse_moment(at).isoformat(), actor, action, details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(session: Session, actor: str, action: str, case_id: int | None = None,
           details: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    """Add one audit row to the current transaction (the caller commits)."""
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id))
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:  # first entry ever: create the head; a concurrent creator makes ours a no-op
        try:
            with session.begin_nested():
                session.add(AuditHead(id=1, last_id=0, hash=GENESIS))
        except IntegrityError:
            pass
        head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    entry_id = head.last_id + 1
    at = at or clock.now()
    details = json.loads(json.dumps(details or {}, default=str))  # JSON-native, as it will be read back
    entry = AuditEntry(id=entry_id, case_id=case_id, at=at, actor=actor, action=action, details=details,
                       prev_hash=head.hash)
    entry.hash = digest(head.hash, entry_id, case_id, at, actor, action, details)
    session.add(entry)
    head.last_id, head.hash = entry_id, entry.hash
    session.flush()
    return entry


@dataclass
class ChainProblem:
    entry_id: int | None
    message: str


def verify(session: Session, batch: int = 5000) -> list[ChainProblem]:
    """Walk the chain in id order; return every break found (empty list: intact)."""
    problems: list[ChainProblem] = []
    prev_hash, expected_id, last_id = GENESIS, 1, 0
    while True:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.id >= expected_id).order_by(AuditEntry.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for row in rows:
            if row.id != expected_id:
                problems.append(ChainProblem(row.id, f"rows {expected_id}..{row.id - 1} are missing"))
            if row.prev_hash != prev_hash:
                problems.append(ChainProblem(row.id, "prev_hash does not match the previous row"))
            expected = digest(row.prev_hash, row.id, row.case_id, row.at, row.actor, row.action, row.details)
            if expected != row.hash:
                problems.append(ChainProblem(row.id, "content was changed after it was written"))
            prev_hash, expected_id, last_id = row.hash, row.id + 1, row.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id != last_id or head.hash != prev_hash):
        problems.append(ChainProblem(head.last_id, f"the newest rows after {last_id} are missing"))
    return problems
