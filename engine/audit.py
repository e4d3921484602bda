"""The audit trail: queued in the caller's transaction, chained and written as it commits; verify the chain.

Rows are chained through one head row. `append` only queues a row on the session; just before the
transaction commits (a `before_commit` listener) the queued rows take their ids and hashes from the head
in one UPDATE … RETURNING, are inserted together and the head moves on. So the head row is locked only for
those last statements of a transaction, not from its first audited action (concurrent writers queue on it
briefly: PostgreSQL row lock, SQLite's single writer) and the chain never forks. A rolled-back transaction
(or savepoint) drops its queued rows with it. Editing or deleting a row breaks the chain at that row;
deleting the newest rows breaks it at the head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, ScalarSelect, Table, bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from engine import clock
from engine.models import AuditEntry, AuditHead

GENESIS = "0" * 64
_QUEUE = "case56.audit"  # session.info key: rows (case_id, at, actor, action, details) waiting for the commit
_MARKS = "case56.audit.marks"  # session.info key: queue length when each open savepoint began
_SEEN = "case56.audit.seen_head"  # session.info key: (last_id, hash) of the head as a read in this transaction saw it


def digest(prev_hash: str, entry_id: int, case_id: int | None, at: datetime, actor: str, action: str,
            details: dict[str, Any]) -> str:
    payload = json.dumps(
        [prev_hash, entry_id, case_id, clock.parse_moment(at).isoformat(), actor, action, details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(session: Session | scoped_session, actor: str, action: str, case_id: int | None = None,
           details: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    """Add one audit row to the current transaction: it is written when (and only if) that commits."""
    details = json.loads(json.dumps(details or {}, default=str))  # JSON-native, as it will be read back
    # Flask-SQLAlchemy's db.session is a scoped_session: the request's own session is behind it.
    db = session() if isinstance(session, scoped_session) else session
    if not db.in_transaction():
        db.begin()  # so that a rollback before any statement still drops the row (no connection yet)
    db.info.setdefault(_QUEUE, []).append((case_id, at or clock.now(), actor, action, details))


def pending(session: Session) -> int:
    """How many rows the current transaction will add to the trail."""
    return len(session.info.get(_QUEUE, ()))


def head_columns() -> tuple[ScalarSelect[int], ScalarSelect[str]]:
    """The head's last id and hash as subqueries, for a command to read along with its own first statement and
    hand to `seen_head`: the commit then moves the head in one guarded UPDATE instead of two (issue 20)."""
    return (select(AuditHead.last_id).where(AuditHead.id == 1).scalar_subquery(),
            select(AuditHead.hash).where(AuditHead.id == 1).scalar_subquery())


def seen_head(session: Session, last_id: int | None, head_hash: str | None) -> None:
    """Remember the head as read in this transaction. Only an expectation: the commit moves the head from exactly
    this state or, when it moved meanwhile (another writer), takes the locking path; a stale read costs a statement,
    never a fork."""
    if last_id is not None and head_hash is not None:
        session.info[_SEEN] = (last_id, head_hash)


def _chain(queued: list[tuple[Any, ...]], last_id: int, prev_hash: str) -> tuple[list[dict[str, Any]], str]:
    """The rows to insert after (last_id, prev_hash), and the hash the head moves to."""
    rows = []
    for entry_id, (case_id, at, actor, action, details) in enumerate(queued, start=last_id + 1):
        entry_hash = digest(prev_hash, entry_id, case_id, at, actor, action, details)
        rows.append({"id": entry_id, "case_id": case_id, "at": at, "actor": actor, "action": action,
                     "details": details, "prev_hash": prev_hash, "hash": entry_hash})
        prev_hash = entry_hash
    return rows, prev_hash


def _head(session: Session, count: int) -> tuple[int, str]:
    """Reserve `count` ids: returns (the last id before them, the hash they chain from), the head locked."""
    moved = update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id + count)
    row = session.execute(moved.returning(AuditHead.last_id, AuditHead.hash),
                          execution_options={"synchronize_session": False}).one_or_none()
    if row is None:  # first entry ever: create the head; a concurrent creator makes ours a no-op
        try:
            with session.begin_nested():
                session.execute(insert(AuditHead).values(id=1, last_id=0, hash=GENESIS))
        except IntegrityError:
            pass
        row = session.execute(moved.returning(AuditHead.last_id, AuditHead.hash),
                              execution_options={"synchronize_session": False}).one()
    return row.last_id - count, row.hash


# Core statements on the tables, built once: the ORM's bulk paths cost more than these statements (issue 20).
_ENTRIES, _HEAD = cast(Table, AuditEntry.__table__), cast(Table, AuditHead.__table__)
_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.id == 1, _HEAD.c.last_id == bindparam("seen_last"),
                                   _HEAD.c.hash == bindparam("seen_hash"))
              .values(last_id=bindparam("last_id"), hash=bindparam("new_hash")))
# PostgreSQL: the head moves and the rows go in with one statement, the same text whatever the number of rows
# (column arrays, unnested), so it is prepared once (issue 20). `at` as stored: UTC without a zone (UTCDateTime).
_PG_WRITE_AFTER = text("""
WITH moved_head AS (
    UPDATE audit_head SET last_id = :last_id, hash = :new_hash
    WHERE id = 1 AND last_id = :seen_last AND hash = :seen_hash RETURNING id)
INSERT INTO audit (id, case_id, at, actor, action, details, prev_hash, hash)
SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:case_ids AS integer[]), CAST(:ats AS timestamp[]),
                     CAST(:actors AS varchar[]), CAST(:actions AS varchar[]), CAST(:details AS json[]),
                     CAST(:prev_hashes AS varchar[]), CAST(:hashes AS varchar[]))
WHERE EXISTS (SELECT 1 FROM moved_head)
RETURNING id""")


def _write_after(session: Session, queued: list[tuple[Any, ...]], seen: tuple[int, str]) -> bool:
    """Write the queued rows after the head as read earlier in this transaction (`seen_head`), moving the head
    from exactly that state; False, with nothing written, when it moved meanwhile. The guarded UPDATE locks the
    head like `_head`: on PostgreSQL a writer holding it makes this one wait and then miss, so a match means the
    ids after `seen` are ours until the commit. On PostgreSQL the move and the insert are one statement (the
    insert reads the moved head's row from a data-modifying WITH), elsewhere two."""
    rows, new_hash = _chain(queued, *seen)
    move = {"last_id": seen[0] + len(queued), "new_hash": new_hash, "seen_last": seen[0], "seen_hash": seen[1]}
    if session.get_bind().dialect.name == "postgresql":
        # The ids written come back (the driver's rowcount of a WITH … INSERT is not dependable): all or none.
        written = session.execute(_PG_WRITE_AFTER, {
            **move, "ids": [r["id"] for r in rows], "case_ids": [r["case_id"] for r in rows],
            "ats": [clock.parse_moment(r["at"]).astimezone(UTC).replace(tzinfo=None) for r in rows],
            "actors": [r["actor"] for r in rows], "actions": [r["action"] for r in rows],
            "details": [json.dumps(r["details"]) for r in rows], "prev_hashes": [r["prev_hash"] for r in rows],
            "hashes": [r["hash"] for r in rows]}).all()
        return len(written) == len(rows)
    result = session.execute(_MOVE_HEAD, move)
    if cast(CursorResult[Any], result).rowcount != 1:
        return False
    session.execute(insert(_ENTRIES), rows)
    return True


@event.listens_for(Session, "before_commit")
def _write_queued(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint is released: its rows wait for the real commit
        return
    queued = session.info.pop(_QUEUE, None)
    seen = session.info.pop(_SEEN, None)
    if not queued:
        return
    session.flush()  # the transaction's own writes first: the head is locked only for the last statements
    if seen is not None and _write_after(session, queued, seen):
        return
    last_id, prev_hash = _head(session, len(queued))
    rows, new_hash = _chain(queued, last_id, prev_hash)
    session.execute(insert(_ENTRIES), rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=new_hash),
                    execution_options={"synchronize_session": False})


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[id(transaction)] = pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """A savepoint rolled back: drop the rows queued since it began (a whole transaction: see `_forget`)."""
    if previous.nested:
        mark = session.info.get(_MARKS, {}).pop(id(previous), None)
        if mark is not None and _QUEUE in session.info:
            del session.info[_QUEUE][mark:]


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed rows are written, others dropped
        session.info.pop(_QUEUE, None)
        session.info.pop(_MARKS, None)
        session.info.pop(_SEEN, None)


@dataclass
class ChainProblem:
    entry_id: int | None
    message: str


TOMBSTONE = "_tombstone"  # details key of a row whose personal content was destroyed (engine.retention)
DESTROYED = "records_destroyed"  # the action whose `tombstones` ([id, hash] pairs) vouch for such rows


def verify(session: Session, batch: int = 5000) -> list[ChainProblem]:
    """Walk the chain in id order; return every break found (empty list: intact).

    A row whose details were replaced by a tombstone (destruction past retention) no longer hashes to its
    `hash`, which is kept: it passes only when a later `records_destroyed` row — itself intact in the chain —
    lists it with that hash. The links stay checked as for any row, so a destruction leaves no gap."""
    problems: list[ChainProblem] = []
    unvouched: dict[int, str] = {}  # tombstoned rows not yet vouched for: id -> hash
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
                if isinstance(row.details, dict) and TOMBSTONE in row.details:
                    unvouched[row.id] = row.hash
                else:
                    problems.append(ChainProblem(row.id, "content was changed after it was written"))
            elif row.action == DESTROYED and isinstance(row.details, dict):
                for pair in row.details.get("tombstones") or ():
                    if isinstance(pair, list) and len(pair) == 2 and unvouched.get(pair[0]) == pair[1]:
                        del unvouched[pair[0]]
            prev_hash, expected_id, last_id = row.hash, row.id + 1, row.id
        session.expunge_all()
    for entry_id in sorted(unvouched):
        problems.append(ChainProblem(entry_id, "a tombstone no recorded destruction vouches for"))
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id != last_id or head.hash != prev_hash):
        problems.append(ChainProblem(head.last_id, f"the newest rows after {last_id} are missing"))
    return problems
