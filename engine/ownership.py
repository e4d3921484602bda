"""Who holds a step: claiming ("Nhận việc"), releasing, assigning, reminding — and the next step after one.

A step of a role (officer, chairman, supervisor) is offered to everyone of that role in its unit. One of them may
claim it: `Task.assignee` then names them, only they complete it (`access.can_act`), and the others see it
read-only with the holder's name. The holder releases it, or the commune's chairman or the province supervisor
gives it to another account that may hold it (or frees it) — the way out when the holder's account is
deactivated, which `engine.liveness` flags as stranded. A transfer to another commune frees held steps
(engine.transfers): nobody of the old commune may do them any more. Plan activities given to partner accounts by
name are `engine.assignees`' (their reassignment keeps the workflow's copy of the activity in step).

Each command is one transaction with its audit entry; a claim is a conditional UPDATE (only while nobody holds
the step), so two officers clicking at once get one claim and one clear refusal, on SQLite and PostgreSQL alike.
Claims do not change the case file, so they leave the case version alone (a page opened before still completes
for its holder); the holder is checked again when the step is completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError
from sqlalchemy import CursorResult, and_, func, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session

import forms
from engine import access, assignees, audit, clock, restriction, worklists
from engine.errors import Conflict, EngineError, Forbidden, InvalidState, NotFound
from engine.models import Case, OrgUnit, Task, TaskReminder, User
from forms.kit import fields as f
from forms.kit import messages
from forms.kit.schema import Part

if TYPE_CHECKING:  # runtime imports this module lazily; the type alone is needed here
    from engine.runtime import Engine

ASSIGN_FORM = "assign"  # names the errors of `assign` and `remind` (not registered legal forms)
REMIND_FORM = "remind"
MESSAGES = {
    "not_holder": ("Tài khoản này không được làm bước này (khác vai trò hoặc ngoài địa bàn) hoặc đã ngừng hoạt "
                   "động; hãy chọn trong danh sách.",
                   "This account may not do this step (another role or outside its area) or is deactivated; "
                   "choose one from the list."),
    "unchanged": ("Bước này đang do tài khoản này đảm nhận; hãy chọn tài khoản khác.",
                  "This account already holds this step; choose another one."),
}


@dataclass(frozen=True)
class Holder:
    """An account that may hold a step (the assign pick list)."""

    username: str
    full_name: str
    unit_name: str

    @property
    def label(self) -> str:
        return f"{self.full_name} ({self.username}) — {self.unit_name}"


def _message(key: str, locale: str) -> str:
    vi, en = MESSAGES[key]
    return en if messages.normalize_locale(locale) == "en" else vi


def _form_error(form: str, tree: dict[str, Any], codes: dict[str, Any], locale: str) -> forms.FormError:
    return forms.FormError(tree, codes=codes, form=form, version=1, locale=messages.normalize_locale(locale))


class AssignInput(Part):
    assignee = f.string("Giao cho (tài khoản)", "Assign to (account)", required=True, max_length=80)
    reason = f.text("Lý do", "Reason", max_length=1000)


class RemindInput(Part):
    note = f.text("Lời nhắc", "Note", max_length=1000)


def _load(part: Part, form: str, data: dict[str, Any], locale: str) -> dict[str, Any]:
    try:
        return part.load(data)
    except ValidationError as error:
        tree = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise _form_error(form, messages.translate_tree(tree, locale), messages.codes_tree(tree), locale) from None


def holders(session: Session, task: Task) -> list[Holder]:
    """The active accounts that may hold `task` (its role, their unit covering it), in Vietnamese name order."""
    if not access.is_role_step(task):
        return []
    rows = session.execute(select(User, OrgUnit.name).outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
                           .where(User.role == task.role, User.active.is_(True))).all()
    found = [Holder(user.username, user.full_name, unit or "") for user, unit in rows
             if access.may_hold(access.Actor.of(user.username, user.role, user.org_unit, user.id), task)]
    return sorted(found, key=lambda h: (assignees.sort_key(h.full_name), h.username))


def full_names(session: Session, usernames: set[str | None]) -> dict[str, str]:
    """Usernames to full names (an unknown name maps to itself), for showing who holds steps."""
    names = {u for u in usernames if u}
    if not names:
        return {}
    found: dict[str, str] = {row.username: row.full_name for row in session.execute(
        select(User.username, User.full_name).where(User.username.in_(names)))}
    return {u: found.get(u, u) for u in names}


def _open_step(session: Session, actor: access.Actor, task_id: int) -> tuple[Task, Case]:
    """The step and its case, locked for the change (PostgreSQL), refreshed; a step `actor` cannot see is missing."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("Không tìm thấy bước này.", "No such step.")
    case = session.get(Case, task.case_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if case is None or not access.can_view_task(actor, task, case):
        raise NotFound("Không tìm thấy bước này.", "No such step.")
    session.refresh(task)
    if task.state != "ready":
        raise Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                       "This step was already completed or cancelled; nothing was saved.")
    if not access.is_role_step(task):
        raise InvalidState("Hoạt động của kế hoạch được giao theo tài khoản; hãy dùng “Giao lại hoạt động”.",
                           "A plan activity is given to an account by name; use “Reassign activity”.")
    restriction.ensure_unrestricted(session, case)
    return task, case


def held_by_other(session: Session, task: Task) -> EngineError:
    """The refusal for someone who is not the holder of a held step, naming the holder."""
    name = full_names(session, {task.assignee}).get(task.assignee or "", task.assignee or "")
    return Forbidden(f"Bước này đang do {name} đảm nhận; chỉ người đó hoàn thành được. Hãy đề nghị chủ tịch UBND "
                     "xã/phường hoặc Sở Y tế giao lại nếu cần.",
                     f"{name} holds this step; only they can complete it. Ask the commune chairman or the "
                     "provincial Department of Health to reassign it if needed.")


def _set_holder(session: Session, task: Task, previous: str | None, holder: str | None) -> None:
    """Change the holder only if it is still `previous`: a concurrent claim makes this a conflict."""
    owner = Task.assignee.is_(None) if previous is None else Task.assignee == previous
    changed = session.execute(update(Task).where(Task.id == task.id, Task.state == "ready", owner)
                              .values(assignee=holder).execution_options(synchronize_session=False))
    if not isinstance(changed, CursorResult) or changed.rowcount != 1:
        raise Conflict("Bước này vừa được người khác nhận hoặc giao; không có thay đổi nào được lưu. "
                       "Hãy tải lại trang.",
                       "Someone else just claimed or assigned this step; nothing was saved. Reload the page.")
    session.refresh(task)


def claim(engine: Engine, session: Session, actor: access.Actor, task_id: int) -> Task:
    """`actor` takes the open step `task_id` of their role and unit ("Nhận việc")."""
    with engine.transaction(session):
        task, case = _open_step(session, actor, task_id)
        if task.assignee == actor.username:
            raise Conflict("Bạn đã nhận bước này rồi.", "You already hold this step.")
        if task.assignee:
            raise held_by_other(session, task)
        if not access.can_claim(actor, task):
            raise Forbidden("Bạn không được nhận bước này (khác vai trò hoặc ngoài địa bàn).",
                            "You may not claim this step (another role or outside your area).")
        _set_holder(session, task, None, actor.username)
        audit.append(session, actor.username, "task_claimed", case.id, {"task": task.id, "step": task.step})
        return task


def release(engine: Engine, session: Session, actor: access.Actor, task_id: int) -> Task:
    """Give a held step back to everyone of its role (its holder, or whoever may assign it)."""
    with engine.transaction(session):
        task, case = _open_step(session, actor, task_id)
        if not task.assignee:
            raise Conflict("Bước này chưa có ai nhận.", "Nobody holds this step.")
        if not access.can_release(actor, task):
            raise held_by_other(session, task)
        previous = task.assignee
        _set_holder(session, task, previous, None)
        audit.append(session, actor.username, "task_released", case.id,
                     {"task": task.id, "step": task.step, "from": previous})
        return task


def assign(engine: Engine, session: Session, actor: access.Actor, task_id: int, data: dict[str, Any],
           locale: str = "vi") -> Task:
    """The commune's chairman or the province supervisor gives the open step to `data["assignee"]`, one of
    `holders`; `data["reason"]` is optional and kept in the audit trail. A field error on `assignee` otherwise."""
    clean = _load(AssignInput(), ASSIGN_FORM, data, locale)
    with engine.transaction(session):
        task, case = _open_step(session, actor, task_id)
        if not access.can_assign(actor, task):
            raise Forbidden("Chỉ chủ tịch UBND xã/phường của hồ sơ hoặc Sở Y tế của tỉnh được giao bước này.",
                            "Only the case's commune chairman or the province's Department of Health may assign "
                            "this step.")
        target = next((h for h in holders(session, task) if h.username == clean["assignee"]), None)
        key = "not_holder" if target is None else "unchanged" if target.username == task.assignee else None
        if key is not None:
            raise _form_error(ASSIGN_FORM, {"assignee": [_message(key, locale)]}, {"assignee": [key]}, locale)
        assert target is not None
        previous = task.assignee
        _set_holder(session, task, previous, target.username)
        audit.append(session, actor.username, "task_assigned", case.id,
                     {"task": task.id, "step": task.step, "from": previous, "to": target.username,
                      "reason": clean.get("reason") or ""})
        return task


def remind(engine: Engine, session: Session, actor: access.Actor, task_id: int, data: dict[str, Any],
           locale: str = "vi") -> list[TaskReminder]:
    """Remind the holder of an open step (or, nobody holding it, every active account that may do it): an in-app
    notice in their inbox and a line in their next e-mail digest. Returns the reminders written."""
    with engine.transaction(session):
        task = session.get(Task, task_id)
        case = session.get(Case, task.case_id) if task is not None else None
        if task is None or case is None or not access.can_view_task(actor, task, case):
            raise NotFound("Không tìm thấy bước này.", "No such step.")
        if task.state != "ready":
            raise Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                           "This step was already completed or cancelled; nothing was saved.")
        if not access.can_remind(actor, task):
            raise Forbidden("Chỉ chủ tịch UBND xã/phường của hồ sơ hoặc Sở Y tế của tỉnh được nhắc việc.",
                            "Only the case's commune chairman or the province's Department of Health may send "
                            "reminders.")
        # The note is read only once the step is the actor's to remind: someone without the right gets 403 (or
        # 404/409), never a field error about a note they may not send at all.
        clean = _load(RemindInput(), REMIND_FORM, data, locale)
        if task.assignee:
            holder = session.scalar(select(User).where(User.username == task.assignee))
            recipients = [task.assignee] if holder is not None and holder.active else []
        else:
            recipients = [h.username for h in holders(session, task)]
        if not recipients:
            raise InvalidState("Không có tài khoản đang hoạt động nào làm được bước này; hãy giao bước cho người khác.",
                               "No active account can do this step; assign it to someone else.")
        now = clock.now()
        rows = [TaskReminder(task_id=task.id, case_id=case.id, recipient=who, sent_by=actor.username,
                             note=clean.get("note") or "", sent_at=now) for who in recipients]
        session.add_all(rows)
        audit.append(session, actor.username, "task_reminded", case.id,
                     {"task": task.id, "step": task.step, "to": recipients, "note": clean.get("note") or ""}, now)
        session.flush()
        return rows


# -- reading -------------------------------------------------------------------------------------------------

def unread_reminders(session: Session, username: str, limit: int = 20) -> list[tuple[TaskReminder, Task, Case]]:
    """Reminders to `username` about steps still open that they have not opened since, newest first."""
    return [(r[0], r[1], r[2]) for r in session.execute(
        select(TaskReminder, Task, Case).join(Task, Task.id == TaskReminder.task_id)
        .join(Case, Case.id == TaskReminder.case_id)
        .where(TaskReminder.recipient == username, TaskReminder.read_at.is_(None), Task.state == "ready")
        .order_by(TaskReminder.sent_at.desc(), TaskReminder.id.desc()).limit(limit)).all()]


def mark_read(session: Session, username: str, task_id: int, now: datetime | None = None) -> int:
    """`username` opened the step: its reminders to them are read (the caller commits)."""
    done = session.execute(update(TaskReminder).where(TaskReminder.recipient == username,
                                                      TaskReminder.task_id == task_id, TaskReminder.read_at.is_(None))
                           .values(read_at=now or clock.now()).execution_options(synchronize_session=False))
    return done.rowcount if isinstance(done, CursorResult) else 0


def next_steps(session: Session, actor: access.Actor, case_id: int) -> list[Task]:
    """The case's open steps `actor` may do now, most urgent first: offered right after they complete one."""
    tasks = session.scalars(select(Task).where(Task.case_id == case_id, Task.state == "ready")
                            .order_by(Task.due_at.is_(None), Task.due_at, Task.id)).all()
    return [t for t in tasks if access.can_act(actor, t)]


@dataclass(frozen=True)
class Workload:
    """Open steps of one holder in a scope (`username` None: nobody has claimed them yet)."""

    username: str | None
    full_name: str
    open: int
    overdue: int


def workload(session: Session, actor: access.Actor, commune_id: int | None = None) -> list[Workload]:
    """Open steps and overdue ones per holder, in `actor`'s scope (the supervisor's and chairman's view); the
    unclaimed ones as one row first, then holders by most overdue."""
    now = clock.now()
    scope = ([Task.commune_id == actor.commune_id] if actor.commune_id is not None
             else [Task.province_id == actor.province_id] if actor.province_id is not None else [])
    if commune_id is not None:
        scope.append(Task.commune_id == commune_id)
    late = func.sum(when((and_(Task.due_at.is_not(None), Task.due_at < now), 1), else_=0))
    query = (select(Task.assignee, func.count(), late)
             .where(Task.state == worklists.READY, Task.escalates_task_id.is_(None), *scope).group_by(Task.assignee))
    rows = session.execute(worklists.from_open_steps(query, actor.commune_id is not None)).all()
    names = full_names(session, {r[0] for r in rows})
    found = [Workload(who, names.get(who, "") if who else "", int(total), int(overdue or 0))
             for who, total, overdue in rows]
    return sorted(found, key=lambda w: (w.username is not None, -w.overdue, -w.open, w.username or ""))
