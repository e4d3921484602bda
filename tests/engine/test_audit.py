"""The audit trail is hash-chained: any edited or deleted row is found and named."""

from sqlalchemy import text

from engine import audit


def _fill(session, n=5):
    for i in range(n):
        audit.append(session, "officer1", "case_viewed", None, {"i": i, "ghi_chú": "xem hồ sơ"})
    session.commit()


def test_clean_chain_verifies(session):
    _fill(session)
    assert audit.verify(session) == []


def test_edited_row_is_named(session):
    _fill(session)
    session.execute(text("UPDATE audit SET actor = 'mallory' WHERE id = 3"))
    session.commit()
    problems = audit.verify(session)
    assert [p.entry_id for p in problems] == [3]
    assert "changed" in problems[0].message


def test_deleted_row_is_named(session):
    _fill(session)
    session.execute(text("DELETE FROM audit WHERE id = 2"))
    session.commit()
    problems = audit.verify(session)
    assert problems and problems[0].entry_id == 3


def test_deleted_newest_row_is_found_at_the_head(session):
    _fill(session)
    session.execute(text("DELETE FROM audit WHERE id = 5"))
    session.commit()
    problems = audit.verify(session)
    assert problems and "missing" in problems[-1].message


def test_concurrent_appends_never_fork_the_chain(session_factory):
    import threading

    errors = []

    def worker(k):
        try:
            with session_factory() as s:
                for i in range(10):
                    audit.append(s, f"w{k}", "case_viewed", None, {"i": i})
                    s.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_factory() as s:
        assert audit.verify(s) == []
        assert s.execute(text("SELECT count(*) FROM audit")).scalar() == 40


def _rows(session) -> list[tuple[int, str]]:
    return [tuple(r) for r in session.execute(text("SELECT id, actor FROM audit ORDER BY id"))]


def test_rows_are_written_as_the_transaction_commits_with_consecutive_ids(session):
    audit.append(session, "a", "case_viewed")
    audit.append(session, "b", "case_viewed")
    assert audit.pending(session) == 2 and _rows(session) == []  # queued: the head is not locked yet
    session.commit()
    assert _rows(session) == [(1, "a"), (2, "b")] and audit.pending(session) == 0
    assert audit.verify(session) == []


def test_a_rolled_back_transaction_or_savepoint_leaves_nothing_in_the_trail(session):
    audit.append(session, "lost", "case_viewed")
    session.rollback()
    audit.append(session, "kept", "case_viewed")
    savepoint = session.begin_nested()
    audit.append(session, "lost in savepoint", "case_viewed")
    savepoint.rollback()
    with session.begin_nested():  # a released savepoint keeps its rows for the real commit
        audit.append(session, "kept in savepoint", "case_viewed")
    session.commit()
    assert _rows(session) == [(1, "kept"), (2, "kept in savepoint")]
    assert audit.verify(session) == []
