"""Idempotent report intake: a retried POST /reports with the same `Idempotency-Key` never opens a second case.

1. Reserve the key: insert (user, key, body digest, case_id NULL) and commit. The unique (user, key)
   index picks one winner among concurrent requests (PostgreSQL makes the second insert wait for the
   first to commit, then fail; SQLite has one writer).
2. The winner opens the case with the engine. Its reservation gets the case id *inside the engine's
   transaction* (a `before_commit` hook on the session), so "case opened" and "key answered" commit
   together: a crash leaves either both or neither.
3. A loser waits for the winner's answer and returns the same case. If the winner failed (bad report,
   no permission), its reservation is deleted and the loser tries for itself. A reservation still empty
   after STALE_AFTER belongs to a process that died before committing anything: it is taken over.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import access, clock
from engine.errors import Conflict
from engine.models import Case, IdempotencyKey
from web.api.common import ApiError, _

STALE_AFTER = timedelta(minutes=5)
WAIT_FOR = 20.0  # seconds a retry waits for the first request to finish
POLL = 0.05


def request_digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def open_once(session: Session, actor: access.Actor, key: str, body: dict[str, Any],
              open_case: Callable[[], Case]) -> tuple[Case, bool]:
    """(case, created): the case this key opened, opening it now if no request did before."""
    digest = request_digest(body)
    deadline = time.monotonic() + WAIT_FOR
    while True:
        session.rollback()  # each look starts a fresh transaction: SQLite readers keep a snapshot otherwise
        row = session.execute(
            select(IdempotencyKey.id, IdempotencyKey.request_hash, IdempotencyKey.case_id, IdempotencyKey.created_at)
            .where(IdempotencyKey.user_id == actor.user_id, IdempotencyKey.key == key)
        ).first()
        if row is None:
            reservation = IdempotencyKey(user_id=actor.user_id, key=key, request_hash=digest, case_id=None,
                                         created_at=clock.now())
            session.add(reservation)
            try:
                session.commit()
            except IntegrityError:  # another request reserved it first: look again
                session.rollback()
                continue
            return _open_reserved(session, reservation.id, open_case), True
        if row.case_id is None and clock.now() - row.created_at > STALE_AFTER:
            # Nothing was opened under this key (case and answer commit together): take it over.
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id,
                                                         IdempotencyKey.case_id.is_(None)))
            session.commit()
            continue
        if row.request_hash != digest:
            raise ApiError(422, "idempotency_key_reused",
                           _("Khoá Idempotency-Key này đã được dùng cho một báo cáo khác; "
                             "không có thay đổi nào được lưu."),
                           {"Idempotency-Key": [_("Khoá đã dùng với nội dung khác.")]})
        if row.case_id is not None:
            case = session.get(Case, row.case_id)
            session.commit()
            return case, False
        if time.monotonic() > deadline:
            session.rollback()
            raise ApiError(409, "idempotency_in_progress",
                           _("Một yêu cầu khác với cùng Idempotency-Key đang được xử lý; hãy thử lại sau."))
        time.sleep(POLL)


def _open_reserved(session: Session, reservation_id: int, open_case: Callable[[], Case]) -> Case:
    opened: list[Case] = []

    def collect(s: Session, _context: Any) -> None:
        opened.extend(o for o in s.new if isinstance(o, Case))

    def forget(_s: Session, _previous: Any = None) -> None:
        opened.clear()  # the engine retries after a lost numbering race: the rolled-back case is gone

    def answer(s: Session) -> None:
        if not opened:
            return
        done = s.execute(update(IdempotencyKey).where(IdempotencyKey.id == reservation_id,
                                                      IdempotencyKey.case_id.is_(None))
                         .values(case_id=opened[-1].id))
        if done.rowcount != 1:  # our reservation was taken over: let the other request answer
            raise Conflict("Khoá Idempotency-Key đã được yêu cầu khác sử dụng.",
                           "The Idempotency-Key was taken over by another request.")

    hooks = (("after_flush", collect), ("after_soft_rollback", forget), ("before_commit", answer))
    for name, fn in hooks:
        event.listen(session, name, fn)
    try:
        return open_case()
    except BaseException:
        session.rollback()
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == reservation_id,
                                                     IdempotencyKey.case_id.is_(None)))
        session.commit()
        raise
    finally:
        for name, fn in hooks:
            event.remove(session, name, fn)
