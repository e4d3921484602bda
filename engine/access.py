"""Who may see or do what, and where. The one permission module for the web UI and the API alike.

Responsibility follows the commune: officers and chairmen act in their commune, supervisors and
inspectors read across their province (or the whole country when attached to no unit), partners see only
the activities assigned to them, intake points open reports and see the ones they recorded. A supervisor
never edits a case's legal forms; an inspector never changes anything; an administrator manages users,
units, processes and the calendar but does not read case files.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, true
from sqlalchemy.sql.elements import SQLColumnExpression

from engine.models import Case, OrgUnit, Task
from forms.kit import sensitivity

ROLE_LABELS = {
    "intake": ("Nơi tiếp nhận thông tin", "Intake point"),
    "officer": ("Người làm công tác bảo vệ trẻ em cấp xã", "Commune child-protection officer"),
    "chairman": ("Chủ tịch UBND cấp xã", "Commune chairman"),
    "partner": ("Cơ sở cung cấp dịch vụ / đơn vị phối hợp", "Service provider / partner"),
    # Since 2025 child affairs in the province sit with the Department of Health (Decree 42/2025/NĐ-CP).
    "supervisor": ("Sở Y tế (quản lý nhà nước về trẻ em)", "Provincial Department of Health (child affairs)"),
    "inspector": ("Thanh tra", "Inspector"),
    "admin": ("Quản trị", "Administrator"),
}
CASE_READERS = frozenset({"intake", "officer", "chairman", "supervisor", "inspector"})
# Who reads a whole case file, its dossier and its audit trail, by unit: intake points record reports and
# see what they recorded, but the handling that follows (assessment, plan, review) is the commune's (Art. 25-31).
FILE_READERS = frozenset({"officer", "chairman", "supervisor", "inspector"})
WORKERS = frozenset({"officer", "chairman", "supervisor"})  # have steps by role and unit (the inbox)
REPORTERS = frozenset({"intake", "officer"})  # record Mẫu 01 (Art. 25)
# Which kind of unit each role must, may or must not belong to: the unit is the role's scope.
UNIT_RULE = {"officer": "commune", "chairman": "commune", "partner": "commune", "intake": "any",
             "supervisor": "province_or_none", "inspector": "province_or_none", "admin": "none"}
NEW_USER_ROLE = "officer"  # preselected when an administrator creates an account: the most common one


class Area:
    """The parts of the application that belong to one role; the web maps each to its pages."""

    CASEWORK = "casework"  # the inbox and the case pages
    OVERSIGHT = "oversight"  # the province supervisor's dashboard
    INSPECTION = "inspection"  # the inspector's read-only search
    ADMINISTRATION = "administration"  # users, units, processes, calendar


@dataclass(frozen=True)
class Actor:
    """The person acting: enough to decide access without touching the session user object."""

    username: str
    role: str
    commune_id: int | None = None
    province_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, username: str, role: str, unit: OrgUnit | None, user_id: int | None = None) -> Actor:
        if unit is None:
            return cls(username, role, None, None, user_id)
        if unit.kind == "province":
            return cls(username, role, None, unit.id, user_id)
        return cls(username, role, unit.id, unit.parent_id, user_id)


def _unit_scope(actor: Actor, commune_col: SQLColumnExpression[int | None],
                province_col: SQLColumnExpression[int | None]) -> ColumnElement[bool]:
    if actor.commune_id is not None:
        return commune_col == actor.commune_id
    if actor.province_id is not None:
        return province_col == actor.province_id
    return true()


def _is(actor: Actor, *roles: str) -> bool:
    return actor.role in roles


def case_filter(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the cases whose file `actor` may read."""
    if actor.role in FILE_READERS:
        return _unit_scope(actor, Case.commune_id, Case.province_id)
    if actor.role == "intake":
        return Case.created_by == actor.username
    return false()


def case_child_filter(actor: Actor) -> ColumnElement[bool]:
    """`case_filter` on the name-search row (engine.children), which keeps a copy of its case's commune and
    province: the same cases, in a condition PostgreSQL combines with the trigram index of the name."""
    from engine.models import CaseChild

    if actor.role in FILE_READERS:
        return _unit_scope(actor, CaseChild.commune_id, CaseChild.province_id)
    return case_filter(actor)  # intake points: the reports they recorded (the case row's author)


def can_read_case(actor: Actor, case: Case) -> bool:
    if actor.role in FILE_READERS:
        if actor.commune_id is not None:
            return case.commune_id == actor.commune_id
        return actor.province_id is None or case.province_id == actor.province_id
    return actor.role == "intake" and case.created_by == actor.username


def task_filter(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the tasks `actor` is to do (their inbox)."""
    if actor.role == "partner":
        return Task.assignee == actor.username
    if actor.role in WORKERS:
        return and_(Task.role == actor.role, _unit_scope(actor, Task.commune_id, Task.province_id))
    return false()


def can_act(actor: Actor, task: Task) -> bool:
    """May `actor` fill in and complete this task?"""
    if actor.role == "partner":
        return task.assignee == actor.username
    if task.role != actor.role or actor.role not in WORKERS:
        return False
    if task.assignee and task.assignee != actor.username:
        return False
    if actor.commune_id is not None:
        return task.commune_id == actor.commune_id
    return actor.province_id is None or task.province_id == actor.province_id


def can_view_task(actor: Actor, task: Task, case: Case) -> bool:
    return can_act(actor, task) or can_read_case(actor, case)


def can_open_case(actor: Actor, commune: OrgUnit) -> bool:
    """Intake points and commune officers record reports (Mẫu 01) for communes in their scope."""
    if not can_record_reports(actor) or commune.kind != "commune":
        return False
    if actor.commune_id is not None:
        return commune.id == actor.commune_id
    return actor.province_id is None or commune.parent_id == actor.province_id


# -- sensitivity classes of form data (forms/kit/sensitivity.py; issue 18) -----------------------------------
# Which role may see which class of a case file it reads. The informant only for those handling or inspecting
# the report (Decree 56 Art. 24.1, 25); the child's private items (Art. 33) also for the province supervisor,
# whose review is about the child; sensitive data and every free text (Decree 356 Art. 4) not for the
# supervisor, who oversees time limits and decisions — an officer marks a text releasable when it must reach them
# (engine.releases). A redacted copy (shared outside the commune) carries the basic class only.
CLASS_READERS: dict[str, frozenset[str]] = {
    sensitivity.BASIC: frozenset(ROLE_LABELS),
    sensitivity.PRIVATE: frozenset({"intake", "officer", "chairman", "supervisor", "inspector"}),
    sensitivity.SENSITIVE: frozenset({"intake", "officer", "chairman", "inspector"}),
    sensitivity.INFORMANT: frozenset({"intake", "officer", "chairman", "inspector"}),
}
BASIC_ONLY = frozenset({sensitivity.BASIC})


def visible_classes(actor: Actor | None, redacted: bool = False) -> frozenset[str]:
    """The classes of a case file's data `actor` may see (callers have checked that they read the case);
    a redacted copy, or no actor at all, sees the basic class only."""
    if actor is None or redacted:
        return BASIC_ONLY
    return frozenset(name for name, roles in CLASS_READERS.items() if actor.role in roles)


def can_see_class(actor: Actor | None, name: str, redacted: bool = False) -> bool:
    return name in visible_classes(actor, redacted)


def can_see_informant(actor: Actor) -> bool:
    """The informant's identity is shown only to those handling or inspecting the report (Art. 25)."""
    return can_see_class(actor, sensitivity.INFORMANT)


def can_release_text(actor: Actor, case: Case) -> bool:
    """Mark a free text of the case releasable (or take the mark back): the commune's officer or chairman, who
    answer for what leaves the commune (Decree 56 Art. 24.2-3)."""
    return can_manage_case(actor, case)


def can_manage_case(actor: Actor, case: Case) -> bool:
    """Transfer and reopen: the commune's officer or chairman."""
    return actor.role in {"officer", "chairman"} and can_read_case(actor, case)


def can_request_separation(actor: Actor, case: Case) -> bool:
    """Ask for a temporary separation (Mẫu 07, Decree 56 Art. 32) at any point of an open case: the chairman who
    decides it, or the officer proposing it, of the case's commune."""
    return (actor.role in {"officer", "chairman"} and actor.commune_id is not None
            and actor.commune_id == case.commune_id and case.status == "open")


def can_propose_adjustment(actor: Actor, case: Case) -> bool:
    """Propose adjusting the plan while it runs (Decree 56 Art. 29.1a): the officer of the case's commune; the
    chairman approves it in the step that follows."""
    return (actor.role == "officer" and actor.commune_id is not None and actor.commune_id == case.commune_id
            and case.status == "open")


REASSIGNERS = frozenset({"officer", "chairman"})


def can_reassign(actor: Actor, task: Task, case: Case) -> bool:
    """Give an open, assigned step (a plan activity) to another account: the officer or chairman of the case's
    commune, who drafted and approved the plan (Art. 28-29) — also when the assignee's account was deactivated.
    A step of a role that someone claimed also has an assignee, but it changes hands by the ownership rules
    (can_assign / can_release), not here."""
    return (actor.role in REASSIGNERS and actor.commune_id is not None and actor.commune_id == case.commune_id
            and task.case_id == case.id and task.state == "ready" and bool(task.assignee)
            and not is_role_step(task))


# -- who holds a step (engine.ownership; issue 17) ----------------------------------------------------------
# A step of a role (officer, chairman, supervisor) goes to everyone of that role in its unit until one of them
# claims it ("Nhận việc"); then only the holder completes it (can_act) and the others see it read-only with the
# holder's name, as in Camunda Tasklist. A claim ends when the holder releases it or when the commune's chairman
# or the province supervisor gives the step to someone else (also how a step held by a deactivated account is
# freed, engine.liveness). An unclaimed step may still be completed by anyone of its role and unit.
ASSIGNERS = frozenset({"chairman", "supervisor"})


def is_role_step(task: Task) -> bool:
    """A step that goes to a role by unit (not a plan activity given to a partner account by name)."""
    return task.role in WORKERS


def may_hold(actor: Actor, task: Task) -> bool:
    """Could `actor` do this step if nobody held it (their role and unit)?"""
    if not is_role_step(task) or task.role != actor.role:
        return False
    if actor.commune_id is not None:
        return task.commune_id == actor.commune_id
    return actor.province_id is None or task.province_id == actor.province_id


def can_claim(actor: Actor, task: Task) -> bool:
    return task.state == "ready" and not task.assignee and may_hold(actor, task)


def can_assign(actor: Actor, task: Task) -> bool:
    """Give an open step of a role to one of the accounts that may hold it, or free it: the commune's chairman
    for the commune's officer and chairman steps, the province supervisor for every step in the province."""
    if task.state != "ready" or not is_role_step(task):
        return False
    if actor.role == "chairman":
        return actor.commune_id is not None and task.commune_id == actor.commune_id and task.role != "supervisor"
    if actor.role == "supervisor":
        return actor.province_id is None or task.province_id == actor.province_id
    return False


def can_release(actor: Actor, task: Task) -> bool:
    """Give a held step back to everyone of its role: its holder, or whoever may assign it."""
    return (task.state == "ready" and bool(task.assignee) and is_role_step(task)
            and (task.assignee == actor.username or can_assign(actor, task)))


def can_remind(actor: Actor, task: Task) -> bool:
    """Remind whoever holds (or may do) an open step, a plan activity's partner included: the commune's chairman
    (not for the province's own steps) and the province supervisor, in their scope."""
    if task.state != "ready":
        return False
    if actor.role == "chairman":
        return actor.commune_id is not None and task.commune_id == actor.commune_id and task.role != "supervisor"
    if actor.role == "supervisor":
        return actor.province_id is None or task.province_id == actor.province_id
    return False


def can_list_stranded(actor: Actor) -> bool:
    """Stranded cases (engine.liveness) are listed for those who can move them: the commune's officer and
    chairman (reassign a step) and the province supervisor (follow up), each in their scope."""
    return actor.role in WORKERS


# -- areas and lists (decided on the role alone; the rows shown are then filtered by scope) ------------------

def home(actor: Actor) -> str:
    """The area a person lands in after signing in."""
    if _is(actor, "inspector"):
        return Area.INSPECTION
    if _is(actor, "admin"):
        return Area.ADMINISTRATION
    return Area.CASEWORK


def can_oversee(actor: Actor) -> bool:
    """The supervisor dashboard: overdue steps, escalations to acknowledge, stranded cases of the province."""
    return _is(actor, "supervisor")


def can_inspect(actor: Actor) -> bool:
    """The inspector's search over the cases in scope (read-only)."""
    return _is(actor, "inspector")


def can_administer(actor: Actor) -> bool:
    """Users, units, process versions, the calendar, and every API token (never case files)."""
    return _is(actor, "admin")


def can_manage_providers(actor: Actor) -> bool:
    """The registry of child-protection service providers a plan mobilises (Decree 56 Art. 28.3.c): kept by
    administrators for every province and commune; case workers meet it only as the plan's pick list."""
    return _is(actor, "admin")


def can_list_cases(actor: Actor) -> bool:
    """The case list: those who read case files (intake points: the reports they recorded)."""
    return actor.role in CASE_READERS


def filters_by_commune(actor: Actor) -> bool:
    """Lists offer a commune filter to those whose scope is a unit (an intake point's is its own reports)."""
    return actor.role in FILE_READERS


def has_worklist(actor: Actor) -> bool:
    """Steps come to this role by unit (partners get theirs by name; see task_filter)."""
    return actor.role in WORKERS


def lists_own_reports(actor: Actor) -> bool:
    """Intake points have no steps: their home shows the reports they recorded instead."""
    return _is(actor, "intake")


def can_list_overdue(actor: Actor) -> bool:
    """The overdue list (page CSV and API) is the province supervisor's oversight."""
    return can_oversee(actor)


def can_view_statistics(actor: Actor) -> bool:
    """Statistics and their exports: commune officers and chairmen, supervisors, inspectors, in their scope."""
    return actor.role in FILE_READERS


def can_record_reports(actor: Actor) -> bool:
    """Intake points and commune officers record reports (which communes: can_open_case)."""
    return actor.role in REPORTERS


def reads_only_assigned(actor: Actor) -> bool:
    """Partners see the plan activity given to them and the case number, never the rest of the file."""
    return _is(actor, "partner")


# -- one case ------------------------------------------------------------------------------------------------

def can_download_dossiers(actor: Actor) -> bool:
    """The dossier PDF is the whole case file: for its readers by unit, not for intake points."""
    return actor.role in FILE_READERS


def can_download_dossier(actor: Actor, case: Case) -> bool:
    return can_download_dossiers(actor) and can_read_case(actor, case)


# -- the national children database (Decree 56 Art. 30.3; engine.national_db) -------------------------------------
# The commune's officer exports the plan dossier and confirms its entry; the officer (their commune) and the
# province supervisor (their province, Sở Y tế) see the cases not yet entered. The export carries the child's
# identity: only the officer who enters it downloads it.
NATIONAL_DB_LISTERS = frozenset({"officer", "supervisor"})


def can_list_national_db(actor: Actor) -> bool:
    return actor.role in NATIONAL_DB_LISTERS


def national_db_filter(actor: Actor) -> ColumnElement[bool]:
    """SQL condition on Case: the cases whose entries `actor` follows."""
    if not can_list_national_db(actor):
        return false()
    return _unit_scope(actor, Case.commune_id, Case.province_id)


def can_view_national_db(actor: Actor, case: Case) -> bool:
    return can_list_national_db(actor) and can_read_case(actor, case)


def can_export_national_db(actor: Actor, case: Case) -> bool:
    return actor.role == "officer" and can_read_case(actor, case)


def can_record_national_db_entry(actor: Actor, case: Case) -> bool:
    return actor.role == "officer" and can_read_case(actor, case)


def can_read_audit_trail(actor: Actor, case: Case) -> bool:
    """The case's audit trail: who read and changed it — for those answerable for the case or inspecting it."""
    return actor.role in FILE_READERS and can_read_case(actor, case)


def can_read_attachment(actor: Actor, case: Case) -> bool:
    """An attached file (a medical or police report, a photo) is sensitive data (Decree 356/2025 Art. 4): only
    readers of the sensitive class open it, and see its name and description; others see that it exists."""
    return can_read_case(actor, case) and can_see_class(actor, sensitivity.SENSITIVE)


def can_attach(actor: Actor, case: Case) -> bool:
    """Evidence is attached by those who manage the case: the commune's officer and chairman."""
    return can_manage_case(actor, case)


# -- privacy: restriction of processing, retention (issue 18) -----------------------------------------------

def can_restrict_processing(actor: Actor) -> bool:
    """Record and lift an authority's restriction of a case's processing (Law 91/2025 Art. 24.3): the
    administrator, who knows the case by its number only (engine.restriction)."""
    return _is(actor, "admin")


def can_manage_retention(actor: Actor) -> bool:
    """Legal holds and destruction past retention (engine.retention); a destruction needs two administrators,
    the one who requests it and another who confirms it."""
    return _is(actor, "admin")


# -- data-subject rights and breaches (Law 91/2025/QH15; issue 18) -------------------------------------------

def can_handle_privacy(actor: Actor) -> bool:
    """Data-subject requests and the breach register: the administrator, as the controller's data-protection
    staff (Law 91 Art. 33.2). They see the request and the case number, never the file's content."""
    return _is(actor, "admin")


def can_record_representative(actor: Actor, case: Case) -> bool:
    """The child's legal representative is recorded on the case by those who manage it (the commune's officer and
    chairman), who know the family from the assessment (Decree 56 Art. 26-27)."""
    return can_manage_case(actor, case)


def representative_may_act(alleged_abuser: bool) -> bool:
    """A representative flagged as the alleged abuser (Decree 56 Art. 27.1.h) may neither exercise the child's
    rights (Law 91 Art. 24) nor receive the file's content, in a request's outcome or otherwise."""
    return not alleged_abuser
