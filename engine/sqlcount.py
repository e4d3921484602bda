"""Counting the SQL statements a piece of work sends (issue 20: ≤ 8 per ordinary step).

One home for the counter so the regression test (tests/engine/test_step_statements.py) and the benchmark
(bench/engine_steps.py) count the same way: every statement the DBAPI cursor executes, by SQLAlchemy's
`before_cursor_execute` event, plus the transaction ends (`commit`/`rollback`), which are round trips too but
not statements.

    with count_statements(engine) as counter:
        case_engine.complete_task(...)
    counter.count          # statements sent
    counter.by_verb()      # {"SELECT": 2, "UPDATE": 3, ...}
    table_of(statement)    # the table a statement is about
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


@dataclass
class StatementCounter:
    """What was sent while the counter listened: the statements' text in order, and the commits and rollbacks."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0
    rollbacks: int = 0

    @property
    def count(self) -> int:
        return len(self.statements)

    def by_verb(self) -> Counter[str]:
        """Statements by their first SQL word (SELECT, INSERT, UPDATE, DELETE, SAVEPOINT...)."""
        return Counter(s.lstrip().split(None, 1)[0].upper() if s.strip() else "" for s in self.statements)

    def reset(self) -> None:
        self.statements.clear()
        self.commits = 0
        self.rollbacks = 0


def table_of(statement: str) -> str:
    """The table a statement is about: a SELECT's first column's table, a write's target."""
    words = statement.split()
    verb = words[0].upper()
    if verb == "SELECT":
        return words[1].split(".")[0]
    return words[2] if verb in {"INSERT", "DELETE"} else words[1]


@contextmanager
def count_statements(bind: Engine | Connection) -> Iterator[StatementCounter]:
    """Count the statements executed on `bind` (an Engine: every connection of its pool) inside the block."""
    counter = StatementCounter()

    def on_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        counter.statements.append(statement)

    def on_commit(conn: Any) -> None:
        counter.commits += 1

    def on_rollback(conn: Any) -> None:
        counter.rollbacks += 1

    event.listen(bind, "before_cursor_execute", on_execute)
    event.listen(bind, "commit", on_commit)
    event.listen(bind, "rollback", on_rollback)
    try:
        yield counter
    finally:
        event.remove(bind, "before_cursor_execute", on_execute)
        event.remove(bind, "commit", on_commit)
        event.remove(bind, "rollback", on_rollback)
