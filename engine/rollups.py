"""Exact rollups for the statistics (issue 20): national figures at 1,000,000 cases without reading every task.

`stat_compliance_day` holds, per (the case's current commune, step, step title, Vietnam local day of completion),
how many steps with a time limit were completed on time and late, twice: per day (grain 'd') and per month
(grain 'm', `day` the month's first day), so a year reads twelve month rows per commune and step and a period
that starts or ends within a month adds the days of its partial months. That is the part of
`statistics.compliance` that grows with history. It is kept by DATABASE TRIGGERS (migration 0023), in the same
statement as the change that moves a figure: the engine's step path issues no extra SQL statement (the trigger's
work runs inside the UPDATE that completes the step) and no writer can forget it:

- a task row inserted, updated (state, completion time, limit, step, title, escalation, case) or deleted
  takes its old contribution out and puts its new one in;
- a case moved to another commune or province (engine.transfers) moves the contributions of all its
  completed steps, since a step counts in the commune that holds the case now.

A step contributes when it is completed, has a time limit, is not a province escalation and has a completion
time: on time when completed_at <= due_at, late otherwise — the same conditions as the direct query
(`statistics.compliance_direct`). Days are Vietnam local dates (UTC+7, no daylight saving since 1975), and a
period is whole local days, so summing the days of a period gives exactly the direct query's figures; the
open steps (overdue / pending now) are a snapshot read live from a partial index of open steps.

Rows whose counts fall back to zero stay (a later step may use them again); readers skip them.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, MetaData, String, Table

from engine.models import UTCDateTime

LOCAL_OFFSET_HOURS = 7  # Asia/Ho_Chi_Minh (engine.clock.LOCAL_TZ): UTC+7 all year

metadata = MetaData()

compliance_day = Table(
    "stat_compliance_day", metadata,
    Column("commune_id", Integer, primary_key=True),
    Column("step", String(60), primary_key=True),
    Column("title", String(200), primary_key=True),
    Column("grain", String(1), primary_key=True),  # d: a day, m: the month starting on `day`
    Column("day", Date, primary_key=True),
    Column("province_id", Integer, nullable=False),
    Column("on_time", Integer, nullable=False),
    Column("late", Integer, nullable=False),
)

# -- SQL of the migration (kept here beside the table it fills; the migration calls these) -------------------
_QUALIFIES = ("{t}.state = 'completed' AND {t}.due_at IS NOT NULL AND {t}.escalates_task_id IS NULL "
              "AND {t}.completed_at IS NOT NULL")
_UPSERT = ("ON CONFLICT (commune_id, step, title, grain, day) DO UPDATE SET "
           "on_time = stat_compliance_day.on_time + excluded.on_time, "
           "late = stat_compliance_day.late + excluded.late")


def _day(dialect: str, column: str) -> str:
    """The Vietnam local date of a stored (naive UTC) instant, or the first day of its month for grain 'm'
    (`g.grain` of the GRAINS row it is joined with)."""
    if dialect == "postgresql":
        local = f"({column} + INTERVAL '{LOCAL_OFFSET_HOURS} hours')"
        return f"CAST(CASE WHEN g.grain = 'm' THEN date_trunc('month', {local}) ELSE {local} END AS DATE)"
    return (f"CASE WHEN g.grain = 'm' THEN date({column}, '+{LOCAL_OFFSET_HOURS} hours', 'start of month') "
            f"ELSE date({column}, '+{LOCAL_OFFSET_HOURS} hours') END")


# Each contribution is written at both grains: a two-row table joined to the row(s) counted.
GRAINS = "(SELECT 'd' AS grain UNION ALL SELECT 'm') g"


def backfill_sql(dialect: str) -> str:
    """Every completed step of today's tables, summed: the rollup as the triggers would have built it."""
    return (
        "INSERT INTO stat_compliance_day (commune_id, step, title, grain, day, province_id, on_time, late) "
        f"SELECT c.commune_id, t.step, t.title, g.grain, {_day(dialect, 't.completed_at')}, min(c.province_id), "
        "sum(CASE WHEN t.completed_at <= t.due_at THEN 1 ELSE 0 END), "
        "sum(CASE WHEN t.completed_at > t.due_at THEN 1 ELSE 0 END) "
        f"FROM task t JOIN case_file c ON c.id = t.case_id CROSS JOIN {GRAINS} "
        f"WHERE {_QUALIFIES.format(t='t')} "
        f"GROUP BY c.commune_id, t.step, t.title, g.grain, {_day(dialect, 't.completed_at')}"
    )


_TASK_COLUMNS = "state, completed_at, due_at, step, title, escalates_task_id, case_id"


def _task_change(dialect: str, row: str, sign: str) -> str:
    """The statement a trigger runs to add (sign '') or take out (sign '-') one task row's contribution."""
    return (
        "INSERT INTO stat_compliance_day (commune_id, step, title, grain, day, province_id, on_time, late) "
        f"SELECT c.commune_id, {row}.step, {row}.title, g.grain, {_day(dialect, f'{row}.completed_at')}, "
        "c.province_id, "
        f"{sign}(CASE WHEN {row}.completed_at <= {row}.due_at THEN 1 ELSE 0 END), "
        f"{sign}(CASE WHEN {row}.completed_at > {row}.due_at THEN 1 ELSE 0 END) "
        f"FROM case_file c CROSS JOIN {GRAINS} WHERE c.id = {row}.case_id {_UPSERT};"
    )


def _case_move(dialect: str, row: str, sign: str) -> str:
    """The statement a trigger runs to add or take out a whole case's figures in its old or new commune."""
    return (
        "INSERT INTO stat_compliance_day (commune_id, step, title, grain, day, province_id, on_time, late) "
        f"SELECT {row}.commune_id, t.step, t.title, g.grain, {_day(dialect, 't.completed_at')}, "
        f"{row}.province_id, "
        f"{sign}sum(CASE WHEN t.completed_at <= t.due_at THEN 1 ELSE 0 END), "
        f"{sign}sum(CASE WHEN t.completed_at > t.due_at THEN 1 ELSE 0 END) "
        f"FROM task t CROSS JOIN {GRAINS} WHERE t.case_id = NEW.id AND {_QUALIFIES.format(t='t')} "
        f"GROUP BY t.step, t.title, g.grain, {_day(dialect, 't.completed_at')} {_UPSERT};"
    )


def sqlite_triggers() -> list[str]:
    old, new = _QUALIFIES.format(t="OLD"), _QUALIFIES.format(t="NEW")
    moved = "OLD.commune_id IS NOT NEW.commune_id OR OLD.province_id IS NOT NEW.province_id"
    return [
        f"CREATE TRIGGER stat_task_insert AFTER INSERT ON task WHEN {new} "
        f"BEGIN {_task_change('sqlite', 'NEW', '')} END",
        f"CREATE TRIGGER stat_task_delete AFTER DELETE ON task WHEN {old} "
        f"BEGIN {_task_change('sqlite', 'OLD', '-')} END",
        f"CREATE TRIGGER stat_task_update_old AFTER UPDATE OF {_TASK_COLUMNS} ON task WHEN {old} "
        f"BEGIN {_task_change('sqlite', 'OLD', '-')} END",
        f"CREATE TRIGGER stat_task_update_new AFTER UPDATE OF {_TASK_COLUMNS} ON task WHEN {new} "
        f"BEGIN {_task_change('sqlite', 'NEW', '')} END",
        f"CREATE TRIGGER stat_case_moved AFTER UPDATE OF commune_id, province_id ON case_file WHEN {moved} "
        f"BEGIN {_case_move('sqlite', 'OLD', '-')} {_case_move('sqlite', 'NEW', '')} END",
    ]


SQLITE_TRIGGER_NAMES = ("stat_task_insert", "stat_task_delete", "stat_task_update_old", "stat_task_update_new",
                        "stat_case_moved")


def _pg_task_change(row: str, sign: str) -> str:
    return f"IF {_QUALIFIES.format(t=row)} THEN {_task_change('postgresql', row, sign)} END IF;"


def pg_triggers() -> list[str]:
    return [
        "CREATE FUNCTION stat_task_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_pg_task_change('OLD', '-')} END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_pg_task_change('NEW', '')} END IF; "
        "RETURN NULL; END $$",
        "CREATE FUNCTION stat_case_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{_case_move('postgresql', 'OLD', '-')} {_case_move('postgresql', 'NEW', '')} RETURN NULL; END $$",
        # Only the columns a contribution depends on fire the update trigger (the ORM sets changed columns only).
        "CREATE TRIGGER stat_task_rollup AFTER INSERT OR DELETE OR UPDATE OF "
        f"{_TASK_COLUMNS} ON task FOR EACH ROW EXECUTE FUNCTION stat_task_rollup()",
        "CREATE TRIGGER stat_case_rollup AFTER UPDATE OF commune_id, province_id ON case_file FOR EACH ROW "
        "WHEN (OLD.commune_id IS DISTINCT FROM NEW.commune_id OR OLD.province_id IS DISTINCT FROM NEW.province_id) "
        "EXECUTE FUNCTION stat_case_rollup()",
    ]


PG_DROP = ["DROP TRIGGER IF EXISTS stat_case_rollup ON case_file", "DROP TRIGGER IF EXISTS stat_task_rollup ON task",
           "DROP FUNCTION IF EXISTS stat_case_rollup()", "DROP FUNCTION IF EXISTS stat_task_rollup()"]




# -- indicator 0101: one row per fact a child is counted by ------------------------------------------------------
# `stat_child_mark` holds, for every counted report (category xam_hai, not found without basis), one row per thing
# indicator 0101 counts children by: the child itself ('child', with sex and age), its environment ('env'), ethnic
# group ('eth'), each form of abuse ('form'), each perpetrator relationship ('rel'), and whether it records forms at
# all ('forms_known': a list, even empty) or any form / relationship ('any_form', 'any_rel'). Beside each row, the
# receipt of the same child's previous row of the same kind and value — in the country (prev_n), in the case's
# province (prev_p), in its commune (prev_c). A child counts once in a period under a value exactly when one of
# their rows of that value lies in the period and its previous one does not (is before the period's start or
# absent): distinct children become a plain count of rows, read from one index.
# The rows of a child are recomputed by triggers on case_file whenever a report of theirs is inserted, deleted or
# changes a column they depend on (typically one to three reports): the step path never touches them.
child_mark = Table(
    "stat_child_mark", metadata,
    Column("case_id", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("value", String(40)),  # NULL: not recorded (environment, ethnic group)
    Column("child_key", String(64), nullable=False),
    Column("province_id", Integer, nullable=False),
    Column("commune_id", Integer, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("sex", String(16)),
    Column("age", Integer),
    Column("prev_n", UTCDateTime),
    Column("prev_p", UTCDateTime),
    Column("prev_c", UTCDateTime),
)

CHILD_COLUMNS = ("category, status, child_key, received_at, commune_id, province_id, child_sex, child_age, "
                 "environment, child_ethnicity, abuse_forms, perpetrator_relationships")


def _elements(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"json_array_elements_text(CASE WHEN json_typeof({column}) = 'array' THEN {column} END) AS e(value)"
    return f"json_each(CASE WHEN json_type({column}) = 'array' THEN {column} END) AS e"


def _length(dialect: str, column: str) -> str:
    """The length of a JSON list column; NULL when it holds no list (never an error inside a trigger)."""
    if dialect == "postgresql":
        return f"(CASE WHEN json_typeof({column}) = 'array' THEN json_array_length({column}) END)"
    return f"(CASE WHEN json_type({column}) = 'array' THEN json_array_length({column}) END)"


def child_marks_sql(dialect: str, keys: str | None = None) -> str:
    """INSERT of the rows of the children whose key is in `keys` (an SQL list), or of every child."""
    counted = "c.category = 'xam_hai' AND c.status <> 'no_basis'" + (f" AND c.child_key IN ({keys})" if keys else "")
    common = "c.child_key, c.province_id, c.commune_id, c.received_at"
    forms, rels = _length(dialect, "c.abuse_forms"), _length(dialect, "c.perpetrator_relationships")

    def part(kind: str, value: str, extra: str = "", source: str = "case_file c", person: str = "NULL, NULL") -> str:
        return (f"SELECT c.id AS case_id, '{kind}' AS kind, {value} AS value, {common}, {person} "
                f"FROM {source} WHERE {counted}{extra}")

    parts = [
        part("child", "NULL", person="c.child_sex AS sex, c.child_age AS age"),
        part("env", "c.environment"),
        part("eth", "c.child_ethnicity"),
        part("form", "e.value", source=f"case_file c CROSS JOIN {_elements(dialect, 'c.abuse_forms')}"),
        part("forms_known", "NULL", f" AND {forms} IS NOT NULL"),
        part("any_form", "NULL", f" AND {forms} > 0"),
        part("rel", "e.value", source=f"case_file c CROSS JOIN {_elements(dialect, 'c.perpetrator_relationships')}"),
        part("any_rel", "NULL", f" AND {rels} > 0"),
    ]
    order = "ORDER BY m.received_at, m.case_id"
    return (
        "INSERT INTO stat_child_mark (case_id, kind, value, child_key, province_id, commune_id, received_at, "
        "sex, age, prev_n, prev_p, prev_c) "
        "SELECT m.case_id, m.kind, m.value, m.child_key, m.province_id, m.commune_id, m.received_at, m.sex, m.age, "
        f"lag(m.received_at) OVER (PARTITION BY m.child_key, m.kind, m.value {order}), "
        f"lag(m.received_at) OVER (PARTITION BY m.child_key, m.kind, m.value, m.province_id {order}), "
        f"lag(m.received_at) OVER (PARTITION BY m.child_key, m.kind, m.value, m.commune_id {order}) "
        f"FROM ({' UNION ALL '.join(parts)}) m"
    )


def _child_changed(dialect: str) -> str:
    """An UPDATE changed something 0101 reads (a closure, open → closed, does not: only "no basis" matters)."""
    def text(column: str) -> str:
        return f"CAST({column} AS TEXT)" if dialect == "postgresql" else column

    same = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    plain = ["category", "child_key", "received_at", "commune_id", "province_id", "child_sex", "child_age",
             "environment", "child_ethnicity"]
    changes = [f"OLD.{c} {same} NEW.{c}" for c in plain]
    changes += [f"{text(f'OLD.{c}')} {same} {text(f'NEW.{c}')}" for c in ("abuse_forms", "perpetrator_relationships")]
    changes.append(f"(OLD.status = 'no_basis') {same} (NEW.status = 'no_basis')")
    return " OR ".join(changes)


def child_sqlite_triggers() -> list[str]:
    keys = "OLD.child_key, NEW.child_key"
    refresh = f"DELETE FROM stat_child_mark WHERE child_key IN ({{k}}); {child_marks_sql('sqlite', '{k}')};"
    return [
        f"CREATE TRIGGER stat_child_insert AFTER INSERT ON case_file BEGIN {refresh.format(k='NEW.child_key')} END",
        f"CREATE TRIGGER stat_child_delete AFTER DELETE ON case_file BEGIN {refresh.format(k='OLD.child_key')} END",
        f"CREATE TRIGGER stat_child_update AFTER UPDATE OF {CHILD_COLUMNS} ON case_file "
        f"WHEN {_child_changed('sqlite')} BEGIN {refresh.format(k=keys)} END",
    ]


CHILD_SQLITE_TRIGGER_NAMES = ("stat_child_insert", "stat_child_delete", "stat_child_update")


def child_pg_triggers() -> list[str]:
    refresh = f"DELETE FROM stat_child_mark WHERE child_key IN ({{k}}); {child_marks_sql('postgresql', '{k}')};"
    return [
        "CREATE FUNCTION stat_child_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {refresh.format(k='NEW.child_key')} "
        f"ELSIF TG_OP = 'DELETE' THEN {refresh.format(k='OLD.child_key')} "
        f"ELSE {refresh.format(k='OLD.child_key, NEW.child_key')} END IF; RETURN NULL; END $$",
        "CREATE TRIGGER stat_child_rollup AFTER INSERT OR DELETE ON case_file "
        "FOR EACH ROW EXECUTE FUNCTION stat_child_rollup()",
        f"CREATE TRIGGER stat_child_rollup_update AFTER UPDATE OF {CHILD_COLUMNS} ON case_file "
        f"FOR EACH ROW WHEN ({_child_changed('postgresql')}) EXECUTE FUNCTION stat_child_rollup()",
    ]


CHILD_PG_DROP = ["DROP TRIGGER IF EXISTS stat_child_rollup_update ON case_file",
                 "DROP TRIGGER IF EXISTS stat_child_rollup ON case_file", "DROP FUNCTION IF EXISTS stat_child_rollup()"]


__all__ = ["backfill_sql", "child_mark", "child_marks_sql", "child_pg_triggers", "child_sqlite_triggers",
           "compliance_day", "metadata", "pg_triggers", "sqlite_triggers"]
