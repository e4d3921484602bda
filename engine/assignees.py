"""Who carries out a plan activity: the accounts a case may assign, the plan's check, and reassigning.

A plan activity (Mẫu 04, Art. 28-29) becomes a step in the inbox of the account its `assignee` names. A name
that matches no account strands the step: nobody's inbox shows it and the case can never close. So:

- `assignable(session, case)`: the active partner accounts (service providers, partner units) of the case's
  commune or of its province, by name. The commune officer is deliberately *not* assignable: the activity step
  is the partner lane's (`carry_out_activity`), inboxes and `access.can_act` route it by the partner's own
  username, and the officer already follows every activity through the review (Mẫu 06). An activity the
  commune does itself is given to a partner account of the commune (the demo's health station, school).
- `check_plan_assignees`: completing the plan refuses an activity whose assignee is not one of those, with a
  message on that activity's field, and takes each `assignee_name` from the account (never from the client).
- `reassign`: the commune's officer or chairman gives an open activity to another assignable account, e.g.
  when the assignee's account was deactivated. One transaction: the task row, the workflow's copy of the
  activity, the case version and the audit trail change together or not at all.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock, restriction
from engine.errors import Conflict, EngineError, Forbidden, InvalidState, NotFound
from engine.models import Case, OrgUnit, Task, User
from forms.kit import fields as f
from forms.kit import messages
from forms.kit.schema import Part

if TYPE_CHECKING:  # runtime imports this module lazily; the type alone is needed here
    from engine.runtime import Engine

PLAN_FORM = "mau_04"
ASSIGNABLE_ROLES = ("partner",)
REASSIGN_FORM = "reassign"  # names the errors of `reassign` (not a registered legal form)
MESSAGES = {
    "not_assignable": ("Không có tài khoản nào với tên này được giao việc ở xã/phường hoặc tỉnh của hồ sơ; "
                       "hãy chọn trong danh sách.",
                       "No account with this username can be assigned work in the case's commune or province; "
                       "choose one from the list."),
    "inactive": ("Tài khoản này đã ngừng hoạt động; hãy chọn tài khoản khác trong danh sách.",
                 "This account is deactivated; choose another one from the list."),
    "unchanged": ("Bước này đang giao cho tài khoản này; hãy chọn tài khoản khác.",
                  "This step is already assigned to this account; choose another one."),
}


@dataclass(frozen=True)
class Assignee:
    """An account that may carry out a plan activity, with the unit it belongs to (shown in pick lists)."""

    username: str
    full_name: str
    unit_code: str
    unit_name: str

    @property
    def label(self) -> str:
        return f"{self.full_name} — {self.unit_name}"


# Vietnamese alphabetical order, the same on every database (SQLite compares bytes, PostgreSQL follows its
# locale): ă, â, ê, ô, ơ, ư, đ are letters of their own after their base letter; tones decide only ties.
_LETTER_MARKS = {"\u0306": 1, "\u0302": 2, "\u031b": 3}  # breve, circumflex, horn
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền, hỏi, ngã, sắc, nặng


def sort_key(name: str) -> tuple[list[tuple[str, int]], list[int], str]:
    letters: list[tuple[str, int]] = []
    tones: list[int] = []
    for char in name.casefold():
        if char == "đ":
            letters.append(("d", 1))
            tones.append(0)
            continue
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        letters.append((base, sum(_LETTER_MARKS.get(m, 0) for m in marks)))
        tones.append(sum(_TONES.get(m, 0) for m in marks))
    return letters, tones, name


def assignable(session: Session, case: Case) -> list[Assignee]:
    """The active partner accounts of the case's commune or province, in Vietnamese order of their names."""
    rows = session.execute(
        select(User.username, User.full_name, OrgUnit.code, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.role.in_(ASSIGNABLE_ROLES), User.active.is_(True),
               or_(OrgUnit.id == case.commune_id, OrgUnit.id == case.province_id))
    ).all()
    return sorted((Assignee(*row) for row in rows), key=lambda a: (sort_key(a.full_name), a.username))


def _message(key: str, locale: str) -> str:
    vi, en = MESSAGES[key]
    return en if messages.normalize_locale(locale) == "en" else vi


def _refusal(session: Session, username: str) -> str:
    """Why `username` is not in the pick list: a deactivated account gets its own message."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    return "inactive" if user is not None and not user.active else "not_assignable"


def check_plan_assignees(session: Session, case: Case, data: dict[str, Any], locale: str = "vi") -> dict[str, Any]:
    """The validated plan (Mẫu 04) with each activity's `assignee_name` taken from its account; raises
    `forms.FormError` on `activities.<i>.assignee` for every assignee that is not assignable in the case."""
    people = {a.username: a for a in assignable(session, case)}
    errors: dict[str, Any] = {}
    codes: dict[str, Any] = {}
    activities = []
    for index, activity in enumerate(data.get("activities") or []):
        username = activity.get("assignee") or ""
        if username in people:
            activities.append({**activity, "assignee_name": people[username].full_name})
            continue
        why = _refusal(session, username)
        errors[str(index)] = {"assignee": [_message(why, locale)]}
        codes[str(index)] = {"assignee": [why]}
        activities.append(activity)
    if errors:
        raise forms.FormError({"activities": errors}, codes={"activities": codes}, form=PLAN_FORM,
                              version=forms.get(PLAN_FORM).version, locale=messages.normalize_locale(locale))
    return {**data, "activities": activities}


class ReassignInput(Part):
    """What a reassignment asks for; checked like a form so the messages match the forms'."""

    assignee = f.string("Giao cho (tài khoản)", "Assign to (account)", required=True, max_length=80)
    reason = f.text("Lý do giao lại", "Reason for reassigning", required=True, max_length=1000)


def _input(username: Any, reason: Any, locale: str) -> dict[str, str]:
    try:
        return ReassignInput().load({"assignee": username, "reason": reason})
    except ValidationError as error:
        tree = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise forms.FormError(messages.translate_tree(tree, locale), codes=messages.codes_tree(tree),
                              form=REASSIGN_FORM, version=1, locale=messages.normalize_locale(locale)) from None


def _field_error(field: str, key: str, locale: str) -> forms.FormError:
    return forms.FormError({field: [_message(key, locale)]}, codes={field: [key]}, form=REASSIGN_FORM, version=1,
                           locale=messages.normalize_locale(locale))


def refusal(actor: access.Actor, task: Task, case: Case) -> EngineError | None:
    """Why `actor` may not reassign this step (None: they may), for the engine and the pages alike."""
    if access.can_reassign(actor, task, case):
        return None
    if actor.role not in access.REASSIGNERS or actor.commune_id != case.commune_id:
        return Forbidden("Chỉ cán bộ hoặc chủ tịch UBND xã/phường quản lý hồ sơ được giao lại bước.",
                         "Only the officer or chairman of the case's commune may reassign a step.")
    if task.state != "ready":
        return Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                        "This step was already completed or cancelled; nothing was saved.")
    if access.is_role_step(task):
        return InvalidState("Bước này thuộc một vai trò, không phải hoạt động của kế hoạch: người đảm nhận bước do "
                            "chủ tịch UBND xã/phường hoặc Sở Y tế giao (“Giao bước cho người khác”).",
                            "This step belongs to a role, not to a plan activity: its holder is changed with "
                            "“Assign to someone else”.")
    return InvalidState("Bước này không giao cho một tài khoản cụ thể nên không giao lại được.",
                        "This step is not assigned to an account, so it cannot be reassigned.")


def reassign(engine: Engine, session: Session, actor: access.Actor, task_id: int, username: Any, reason: Any,
             locale: str = "vi", *, expected_version: int | None = None) -> Task:
    """Give the open step `task_id` to the assignable account `username`, recording why.

    Refusals: a step the actor cannot see is missing (404); one they see but may not reassign is forbidden;
    a finished step, a stale `expected_version` or a concurrent change is a conflict; a username outside the
    pick list (or the current assignee) is a field error on `assignee`. Nothing is saved on any refusal.
    """
    clean = _input(username, reason, locale)
    with engine.transaction(session):
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound("Không tìm thấy bước này.", "No such step.")
        # PostgreSQL: a reassignment and a completion of the same case queue here, as in Engine._complete.
        case = session.get(Case, task.case_id, with_for_update=session.get_bind().dialect.name == "postgresql")
        if case is None or not access.can_view_task(actor, task, case):
            raise NotFound("Không tìm thấy bước này.", "No such step.")
        session.refresh(task)
        refused = refusal(actor, task, case)
        if refused is not None:
            raise refused
        restriction.ensure_unrestricted(session, case)
        if expected_version is not None and case.version != expected_version:
            raise Conflict("Hồ sơ đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu. "
                           "Hãy tải lại trang.",
                           "The case changed since you opened the page; nothing was saved. Reload the page.")
        target = next((a for a in assignable(session, case) if a.username == clean["assignee"]), None)
        if target is None:
            raise _field_error("assignee", _refusal(session, clean["assignee"]), locale)
        if target.username == task.assignee:
            raise _field_error("assignee", "unchanged", locale)
        workflow = engine.load_workflow(session, case)
        spiff_task = workflow.get_task_from_id(uuid.UUID(task.spiff_id))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict("Bước này không còn chờ xử lý.", "This step is no longer waiting.")
        # The workflow's copy of the activity names the assignee too (it goes into the activity's result):
        # table and workflow must agree, or a reload would route the step back to the old account.
        activity = {**(spiff_task.data.get("activity") or {}),
                    "assignee": target.username, "assignee_name": target.full_name}
        spiff_task.data["activity"] = activity
        previous = task.assignee
        now = clock.now()
        task.assignee = target.username
        task.activity = activity  # the row says what the workflow says
        case.updated_at = now  # bumps the case version: a page opened before cannot act on the old assignee
        engine.store_workflow(session, case, workflow)
        audit.append(session, actor.username, "task_reassigned", case.id,
                     {"task": task.id, "step": task.step, "from": previous, "to": target.username,
                      "reason": clean["reason"], "activity": activity}, now)
        session.flush()  # the version check: a concurrent change makes this raise, and nothing is kept
        return task
