"""SQL tables of case56.

Reads (inboxes, overdue lists, statistics, timelines) are answered from `case_file`, `task` and `audit`;
the SpiffWorkflow state lives apart in `case_workflow` and is loaded only to change a case.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import FromClause

from engine.errors import Conflict


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always reads them back aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, date: Date}


class OrgUnit(Base):
    """A province or a commune (two-level local government since 1/7/2025)."""

    __tablename__ = "org_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # province | commune
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    email: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    org_unit: Mapped[OrgUnit | None] = relationship()


class UnknownLogin(Base):
    """Failed log-ins under a name no account has, counted like an account's own (`User.failed_logins`,
    `User.locked_until`), so the lock-out message never tells which names exist."""

    __tablename__ = "unknown_login"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)  # lower-cased
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_failed_at: Mapped[datetime] = mapped_column(index=True)


class ProcessVersion(Base):
    """One distinct BPMN definition; running cases keep the version they started with."""

    __tablename__ = "process_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime]
    bpmn: Mapped[str] = mapped_column(Text)
    # "shipped" (the file in processes/, recorded when first seen) or "upload" (an administrator's file).
    source: Mapped[str] = mapped_column(String(20), default="shipped", server_default="shipped")
    uploaded_by: Mapped[str | None] = mapped_column(String(80))
    # New cases open on the version activated last; running cases keep theirs.
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(80))


class ProvinceProcessVersion(Base):
    """A province's own version (a variant, e.g. an extra step): its new cases open on it instead of the
    national version. No row: the province follows the national version (the one activated last)."""

    __tablename__ = "province_process_version"
    province_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    activated_at: Mapped[datetime]
    activated_by: Mapped[str] = mapped_column(String(80))


class ServiceProvider(Base):
    """A child-protection service provider a plan may mobilise (Decree 56 Art. 28.3.c), kept by administrators in
    the registry of a province or a commune (its unit); a plan chooses among the active ones of the case's province
    and commune. Never deleted: a plan that named a provider still names it after it is deactivated."""

    __tablename__ = "service_provider"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # what a plan stores (Mẫu 04 `provider`)
    name: Mapped[str] = mapped_column(String(200))
    service_type: Mapped[str] = mapped_column(String(32))  # forms.kit.choices.ServiceType
    address: Mapped[str] = mapped_column(String(500), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[str | None] = mapped_column(String(80))
    unit: Mapped[OrgUnit] = relationship()


class Case(Base):
    __tablename__ = "case_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    commune_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    province_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    category: Mapped[str] = mapped_column(String(40))
    child_key: Mapped[str] = mapped_column(String(64))  # counts children, not cases (no name stored here)
    child_sex: Mapped[str | None] = mapped_column(String(16))
    child_age: Mapped[int | None] = mapped_column(Integer)  # age in years at receipt, exact or estimated
    abuse_forms: Mapped[list[str]] = mapped_column(JSON, default=list)
    environment: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed | no_basis
    stage: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime]  # the anchor of limits: the earlier of the two receipts below (Art. 26.3)
    intake_received_at: Mapped[datetime | None]  # the intake point's receipt (Mẫu 01, Art. 25.1)
    commune_received_at: Mapped[datetime | None]  # the commune's receipt, when forwarded (Art. 26.1)
    # Art. 26.1: the initial assessment at the incident commune; Law on Children Art. 52.2: the plan at the
    # residence commune. `commune_id` is who holds the case now (engine.transfers moves it).
    incident_commune_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    residence_commune_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    child_ethnicity: Mapped[str | None] = mapped_column(String(8))  # one of the 54 ethnic groups (coded)
    perpetrator_relationships: Mapped[list[str] | None] = mapped_column(JSON)  # to the child (coded)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    linked_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock
    commune: Mapped[OrgUnit] = relationship(foreign_keys=[commune_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("number", name="uq_case_number"),
        Index("ix_case_scope", "province_id", "commune_id", "status", "received_at"),
        Index("ix_case_child", "child_key"),
        Index("ix_case_linked", "linked_case_id"),  # the case page's linked cases
        # The case list, newest first, per commune, province or country (migration 0005).
        Index("ix_case_commune_received", "commune_id", "received_at", "id"),
        Index("ix_case_province_received", "province_id", "received_at", "id"),
        Index("ix_case_received", "received_at", "id"),
    )


class CaseChild(Base):
    """Who the child of a case is, for finding them and for spotting a second report about them (engine.children):
    kept by the engine from Mẫu 01 when a case opens (a transfer keeps the case and its row). `case_file` keeps
    no name (its `child_key` counts children); this row holds the name as written and folded for search (no
    marks, đ→d, lower case), on PostgreSQL under a trigram index (migration 0020). Emptied when the case file is
    destroyed past retention (engine.retention)."""

    __tablename__ = "case_child"
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")  # as written on Mẫu 01 (private class)
    name_search: Mapped[str] = mapped_column(String(200), default="")  # engine.children.fold(full_name)
    birth_date: Mapped[date | None]
    birth_year: Mapped[int | None] = mapped_column(Integer)  # from the birth date, or receipt year - estimated age
    parents_search: Mapped[str] = mapped_column(String(500), default="")  # folded parents' names, "|"-separated
    # The case's scope and order, copied (migration 0022) so a search reads this table alone in list order and
    # PostgreSQL can AND the trigram index with the scope's: kept with the case by engine.transfers.
    commune_id: Mapped[int | None] = mapped_column(Integer)
    province_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_case_child_name", "name_search", "birth_year"),
                      Index("ix_case_child_commune", "commune_id", "received_at", "case_id"),
                      Index("ix_case_child_province", "province_id", "received_at", "case_id"),
                      Index("ix_case_child_received", "received_at", "case_id"))


class CaseSearchKey(Base):
    """Exact keys a case is found by besides the name: the child's personal ID (private class) and the
    informant's phone (informant class), normalised (engine.children); who may search by which is the class's."""

    __tablename__ = "case_search_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    kind: Mapped[str] = mapped_column(String(20))  # personal_id | informant_phone
    value: Mapped[str] = mapped_column(String(40))

    __table_args__ = (Index("ix_case_search_key", "kind", "value", "case_id"),
                      Index("ix_case_search_key_case", "case_id"))


class CaseCounter(Base):
    """The last case number given per commune and year (numbers are human-readable and never reused)."""

    __tablename__ = "case_counter"
    commune_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class CaseWorkflow(Base):
    """The serialized SpiffWorkflow state, with the serializer version it was written by."""

    __tablename__ = "case_workflow"
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), primary_key=True)
    serializer_version: Mapped[str] = mapped_column(String(16))
    state: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON (engine.state)


class Task(Base):
    """One user-task instance, denormalised so that inboxes never deserialise a workflow."""

    __tablename__ = "task"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    spiff_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    commune_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    province_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    # A plan activity's partner account, or the officer/chairman/supervisor who claimed or was given a step
    # (engine.ownership): only they may complete it while it is held.
    assignee: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(12))  # ready | completed | cancelled
    cancel_reason: Mapped[str | None] = mapped_column(String(40))  # case_closed | path_left | late_step_done
    track: Mapped[str | None] = mapped_column(String(20))  # a track that goes on after closing (police)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    rule: Mapped[str | None] = mapped_column(String(40))  # deadline rule name (processes/deadlines.toml)
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]  # the deadline passed and a supervisor task was opened
    escalates_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(80))
    form: Mapped[str | None] = mapped_column(String(40))
    form_version: Mapped[int | None] = mapped_column(Integer)
    form_data: Mapped[dict[str, Any] | None]
    draft_data: Mapped[dict[str, Any] | None]
    draft_saved_at: Mapped[datetime | None]
    # The plan activity (Mẫu 04) an assigned step is for, as the workflow handed it over (and reassigned).
    activity: Mapped[dict[str, Any] | None]

    __table_args__ = (
        Index("ix_task_inbox", "role", "commune_id", "state", "due_at", "id"),
        Index("ix_task_province", "role", "province_id", "state", "due_at", "id"),
        Index("ix_task_assignee", "assignee", "state", "due_at", "id"),
        Index("ix_task_overdue", "state", "due_at"),
        Index("ix_task_case", "case_id", "state"),
        # Work lists read in their order (due_at, id), cut at the page and counted from the index alone;
        # overdue lists and dashboards by province or commune (engine.worklists, bench/queries.py).
        Index("ix_task_province_due", "province_id", "state", "escalates_task_id", "due_at", "id"),
        Index("ix_task_commune_due", "commune_id", "state", "escalates_task_id", "due_at", "id"),
        UniqueConstraint("case_id", "spiff_id", name="uq_task_spiff"),
    )


class TaskReminder(Base):
    """A reminder about an open step (engine.ownership.remind), one row per recipient: the account holding the
    step, or every account that may do it when nobody does. Shown in the recipient's inbox until they open the
    step (`read_at`), and listed in their next e-mail digest (`mailed_at`)."""

    __tablename__ = "task_reminder"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    recipient: Mapped[str] = mapped_column(String(80))
    sent_by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    mailed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_task_reminder_recipient", "recipient", "read_at", "sent_at"),
                      Index("ix_task_reminder_task", "task_id"))


class Timer(Base):
    """A moment the engine must act on; `tick` fires each exactly once."""

    __tablename__ = "timer"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    spiff_id: Mapped[str] = mapped_column(String(36))  # the boundary timer event's task
    kind: Mapped[str] = mapped_column(String(12))  # deadline | reminder
    fire_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    incident: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("case_id", "spiff_id", "kind", name="uq_timer"),
        Index("ix_timer_due", "fired_at", "cancelled_at", "incident", "fire_at"),
    )


class AuditEntry(Base):
    """Append-only, hash-chained log: each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_case", "case_id", "id"),)


class AuditHead(Base):
    """The last hash of the chain: one row, locked while appending so the chain never forks."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class Attachment(Base):
    """Evidence attached to a case (optionally to one of its steps). The file itself lives outside the
    database, named by its SHA-256, which is also the checksum verified on every download."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))  # from the content's magic bytes, never the name
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime]

    __table_args__ = (Index("ix_attachment_case", "case_id", "id"),)


class CaseRestriction(Base):
    """Processing of a case restricted on an authority's request (Law 91/2025 Art. 24.3): while `lifted_at` is
    empty the case is read-only for everyone (engine.restriction); lifting keeps the row as history."""

    __tablename__ = "case_restriction"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    authority: Mapped[str] = mapped_column(String(300))  # the requesting authority
    document_number: Mapped[str] = mapped_column(String(100))
    document_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    restricted_by: Mapped[str] = mapped_column(String(80))
    restricted_at: Mapped[datetime]
    lifted_by: Mapped[str | None] = mapped_column(String(80))
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_case_restriction_case", "case_id", "lifted_at"),)


class LegalHold(Base):
    """A case that must not be destroyed (litigation, an inspection, an authority's request) until released or
    until `held_until` has passed (engine.retention)."""

    __tablename__ = "legal_hold"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    reason: Mapped[str] = mapped_column(Text)
    held_until: Mapped[date | None]  # none: until released
    placed_by: Mapped[str] = mapped_column(String(80))
    placed_at: Mapped[datetime]
    released_by: Mapped[str | None] = mapped_column(String(80))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_legal_hold_case", "case_id", "released_at"),)


class Destruction(Base):
    """A destruction of personal content past retention: requested by one administrator, carried out only when
    a second one confirms (engine.retention). `cases` is what the request covered; `result` what was done."""

    __tablename__ = "destruction"
    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    cases: Mapped[dict[str, Any]]  # {"ids": [...], "records": {case id: [record types]}}
    status: Mapped[str] = mapped_column(String(12))  # requested | done | cancelled
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]


class DestroyedRecord(Base):
    """A tombstone: this record type of this case was destroyed by that destruction (nothing else is kept)."""

    __tablename__ = "destroyed_record"
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)  # case_file | attachment
    destruction_id: Mapped[int] = mapped_column(ForeignKey("destruction.id"))
    destroyed_at: Mapped[datetime]


class TextRelease(Base):
    """A free text an officer of the commune marked releasable (issue 18): it is shown, with the mark, in redacted
    copies and to roles without the right to sensitive data, as long as the stored text is still the one marked
    (`value_sha256`). One per step and field path (engine.releases)."""

    __tablename__ = "text_release"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    path: Mapped[str] = mapped_column(String(300))  # "findings", "child.current_condition", "activities.0.content"
    value_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    released_by: Mapped[str] = mapped_column(String(80))
    released_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("task_id", "path", name="uq_text_release"),
                      Index("ix_text_release_case", "case_id", "task_id"))


class CalendarDay(Base):
    """A day an administrator declared off or working, overriding the package and the data file."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(80))
    # The legal act (its number) that makes a day listed but not enacted (24/11) a holiday; required then.
    act: Mapped[str | None] = mapped_column(String(100))


class NationalDbEntry(Base):
    """A case's entry into the national children database (Decree 56 Art. 30.3), confirmed by an officer: once
    for each approved plan (`occasion` plan_approval, `source_task_id` the approval step) and once at closure
    (`occasion` closure). What was entered is named by the export's schema version and SHA-256."""

    __tablename__ = "national_db_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    occasion: Mapped[str] = mapped_column(String(20))  # plan_approval | closure
    occasion_key: Mapped[str] = mapped_column(String(40))  # "plan:<task id>" | "closure": one entry each
    source_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    export_version: Mapped[str] = mapped_column(String(20))
    export_sha256: Mapped[str] = mapped_column(String(64))
    entered_on: Mapped[date] = mapped_column(Date)  # the day it was entered in the national system
    reference: Mapped[str | None] = mapped_column(String(100))  # the national system's record number, if any
    confirmed_by: Mapped[str] = mapped_column(String(80))
    confirmed_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("case_id", "occasion_key", name="uq_national_db_entry"),
        Index("ix_national_db_entry_case", "case_id"),
    )


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is kept (the token is shown once); the prefix names it in lists."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_api_token_user", "user_id", "revoked_at"),)


class LoginSession(Base):
    """One signed-in browser session, held on the server: the cookie carries a random id whose SHA-256 is
    `token_hash`; a session is valid only while its row is open (not ended, not older than the session
    lifetime), so logging out, "log out everywhere", a password change or an administrator ends it for good,
    even for a copy of the cookie."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(80))
    end_reason: Mapped[str | None] = mapped_column(String(32))  # logout | everywhere | password | admin | expired

    __table_args__ = (Index("ix_login_session_user", "user_id", "ended_at"),)


class IdempotencyKey(Base):
    """A client's key for one report: a retry with the same key returns the case the first request opened.

    The row is reserved (case_id empty) before the case is opened and gets its case_id in the very
    transaction that opens the case, so a key never points at nothing once a case exists."""

    __tablename__ = "idempotency_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical request body
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_key"),)


class TickHeartbeat(Base):
    """One row per tick worker, rewritten after each batch: readiness and metrics read the newest `beat_at`."""

    __tablename__ = "tick_heartbeat"
    worker: Mapped[str] = mapped_column(String(80), primary_key=True)  # host:pid
    beat_at: Mapped[datetime]
    fired: Mapped[int] = mapped_column(Integer, default=0)
    retried: Mapped[int] = mapped_column(Integer, default=0)
    incidents: Mapped[int] = mapped_column(Integer, default=0)


# -- personal data protection (Law 91/2025/QH15, Decree 356/2025/NĐ-CP; issue 18) ---------------------------

class LegalRepresentative(Base):
    """A child's legal representative, who exercises the child's data rights (Law 91 Art. 24). One flagged as
    the alleged abuser (Decree 56 Art. 27.1.h) may neither make requests nor receive the file's content
    (engine.access.representative_may_receive)."""

    __tablename__ = "legal_representative"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    full_name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(30))
    contact: Mapped[str | None] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(40))
    alleged_abuser: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_representative_case", "case_id", "id"),)


class PrivacyProcess(Base):
    """One distinct BPMN text of a privacy process (the data-subject request); a request keeps the one it
    started on. Apart from process_version so that no case can ever open on it."""

    __tablename__ = "privacy_process"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    bpmn: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime]


class DataRequest(Base):
    """A data subject's request (Law 91 Art. 4; Decree 356 Art. 5), run as a BPMN process (engine.data_requests)."""

    __tablename__ = "data_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    province_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("legal_representative.id"))
    requester_kind: Mapped[str] = mapped_column(String(20))  # child | representative | authorised
    requester_name: Mapped[str] = mapped_column(String(200))
    request_type: Mapped[str] = mapped_column(String(20))  # view, correct, copy, withdraw, ... (Decree 356 Art. 5)
    status: Mapped[str] = mapped_column(String(20))  # received | acknowledged | completed | refused
    received_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(80))
    ack_due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    due_at: Mapped[datetime]  # the completion limit, moved once by an extension
    extended_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    refusal_ground: Mapped[str | None] = mapped_column(String(40))
    form_data: Mapped[dict[str, Any]]
    process_id: Mapped[int] = mapped_column(ForeignKey("privacy_process.id"))
    serializer_version: Mapped[str] = mapped_column(String(16))
    state: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON (engine.state)
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_data_request_status", "status", "due_at", "id"),
        Index("ix_data_request_case", "case_id", "id"),
    )


class DataRequestStep(Base):
    """One user task of a data-subject request, as `task` is for a case."""

    __tablename__ = "data_request_step"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_request.id"))
    spiff_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(12))  # ready | completed | cancelled
    rule: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(80))
    form: Mapped[str | None] = mapped_column(String(40))
    form_version: Mapped[int | None] = mapped_column(Integer)
    form_data: Mapped[dict[str, Any] | None]

    __table_args__ = (
        UniqueConstraint("request_id", "spiff_id", name="uq_data_request_step"),
        Index("ix_data_request_step_due", "state", "escalated_at", "due_at"),
    )


class Breach(Base):
    """A personal data breach: the 72-hour notice to the Ministry of Public Security (A05) runs from discovery
    (Law 91 Art. 23.1); engine.breaches."""

    __tablename__ = "breach"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # open | notified | closed
    discovered_at: Mapped[datetime]
    notify_due_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime]
    report: Mapped[dict[str, Any]]  # form breach_report
    escalated_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    notification: Mapped[dict[str, Any] | None]  # form breach_notification (to A05)
    controller_notified_at: Mapped[datetime | None]
    controller_notice: Mapped[dict[str, Any] | None]  # form breach_notification (processor to controller)
    closed_at: Mapped[datetime | None]
    closure: Mapped[dict[str, Any] | None]  # form breach_closure
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_breach_status", "status", "notify_due_at", "id"),)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """SQLite: WAL so readers never wait for the writer, foreign keys on, wait for locks rather than fail."""
    if isinstance(dbapi_conn, sqlite3.Connection):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()


def _sqlite_from_hint(self: SQLCompiler, table: FromClause, text: str | None) -> str | None:
    return text


# SQLite's compiler drops FROM hints: `select(...).with_hint(Table, "INDEXED BY ix_name", "sqlite")` renders as
# SQLite's own INDEXED BY (engine.liveness names a covering partial index its planner passes over); other
# databases ignore a hint given for "sqlite".
SQLiteCompiler.get_from_hint_text = _sqlite_from_hint  # type: ignore[method-assign]


def database_url(url: str) -> str:
    """Accept the usual `postgresql://` URL and use psycopg 3 for it."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"check_same_thread": False})
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(url: str) -> sessionmaker:
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)

@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """Commit on success; on any failure roll everything back, reporting lost races as Conflict (engine commands
    that need no workflow use it directly; Engine.transaction adds a fresh read of the database)."""
    try:
        yield
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict("Hồ sơ vừa được người khác cập nhật; không có thay đổi nào được lưu. "
                       "Hãy tải lại trang để xem dữ liệu mới nhất.",
                       "The case was changed by someone else; nothing was saved. Reload to see it.") from None
    except OperationalError as exc:
        session.rollback()
        if "locked" in str(exc).lower() or "deadlock" in str(exc).lower():
            raise Conflict("Hồ sơ đang được cập nhật; hãy thử lại sau giây lát.",
                           "The case is being updated; try again in a moment.") from None
        raise
    except BaseException:
        session.rollback()
        raise
