"""The optional daily e-mail digest: each user with an e-mail address gets their overdue and due-soon tasks.

The list is the user's own inbox (`engine.worklists.inbox`, the same query as the page and the header count),
cut at the due-soon horizon. The mail is written in the user's language and names only case numbers, steps
and deadlines — never a child's personal data, since e-mail leaves the system. Mail goes to the SMTP relay of
the configuration (MAIL_SERVER, MAIL_PORT, MAIL_FROM;
MAIL_SECURITY and MAIL_USERNAME/PASSWORD for TLS and log-in); with no MAIL_SERVER nothing is sent and the command
says so.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import click
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import access, clock, worklists
from engine.models import Case, DataRequest, DataRequestStep, Task, TaskReminder, User
from web import labels
from web.filters import duration

DUE_SOON = timedelta(hours=24)  # as the header badge: due within 24 hours
BATCH = 100


@dataclass
class DigestItem:
    task: Task
    case: Case
    title: str
    overdue: bool
    delta: str  # how late, or how long is left
    due: datetime | None  # the task's limit; for an escalation, the late step's


@dataclass
class PrivacyItem:
    """A breach whose notice to A05 is due or late, or a data subject's request step due or late (issue 18):
    named by its number only, for the administrators."""

    title: str
    due: datetime
    overdue: bool
    delta: str
    path: str


@dataclass
class ReminderItem:
    """A reminder about an open step (engine.ownership.remind) not yet mailed nor read: who sent it and the step;
    never its note, which is free text and may name the child."""

    reminder: TaskReminder
    task: Task
    case: Case
    title: str
    sender: str


@dataclass
class Digest:
    user: User
    items: list[DigestItem]
    message: EmailMessage
    privacy: list[PrivacyItem] = field(default_factory=list)
    reminders: list[ReminderItem] = field(default_factory=list)


@dataclass
class DigestResult:
    sent: list[str] = field(default_factory=list)
    skipped_no_tasks: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    disabled: bool = False


def attention_items(session: Session, user: User, now: datetime) -> list[DigestItem]:
    """The user's open tasks that are overdue or due within DUE_SOON, most urgent first, then the
    escalations waiting for them (a supervisor's acknowledgement has no limit of its own: it is about a
    step that is already late, so it counts as overdue)."""
    actor = access.Actor.of(user.username, user.role, user.org_unit, user.id)
    horizon = now + DUE_SOON
    items: list[DigestItem] = []
    page_no = 1
    while True:
        page = worklists.inbox(session, actor, page=page_no, size=BATCH)
        for task, case in page.rows:
            title = labels.step_title(task, case, "en" if user.locale == "en" else "vi")  # by the case's version
            if task.due_at is not None and task.due_at < horizon:
                seconds = (task.due_at - now).total_seconds()
                items.append(DigestItem(task, case, title, seconds < 0, duration(seconds), task.due_at))
            elif task.due_at is None and task.escalates_task_id is not None:
                late = session.get(Task, task.escalates_task_id)
                due = late.due_at if late is not None else None
                seconds = (due - now).total_seconds() if due else 0
                items.append(DigestItem(task, case, title, True, duration(seconds), due))
        if not page.has_next:
            return items
        page_no += 1


def privacy_items(session: Session, user: User, now: datetime) -> list[PrivacyItem]:
    """For those who handle data subjects' requests and breaches: breaches whose 72 hours end within DUE_SOON or
    have ended without a notice, and request steps due within DUE_SOON or late, most urgent first."""
    from engine import breaches

    actor = access.Actor.of(user.username, user.role, user.org_unit, user.id)
    if not access.can_handle_privacy(actor):
        return []
    out = []
    for breach in breaches.attention(session, now):
        seconds = (breach.notify_due_at - now).total_seconds()
        out.append(PrivacyItem(_("Vi phạm %(n)s: thông báo Bộ Công an (72 giờ)", n=breach.number),
                               breach.notify_due_at, seconds < 0, duration(seconds),
                               f"/admin/privacy/breaches/{breach.id}"))
    steps = session.execute(
        select(DataRequestStep, DataRequest.number).join(DataRequest, DataRequest.id == DataRequestStep.request_id)
        .where(DataRequestStep.state == "ready", DataRequestStep.due_at < now + DUE_SOON))
    for step, number in steps:
        seconds = (step.due_at - now).total_seconds()
        title = labels.plain_original(labels.data_request_step_title(step.step, step.title))  # marked in words
        out.append(PrivacyItem(f"{_('Yêu cầu %(n)s', n=number)}: {title}", step.due_at, seconds < 0, duration(seconds),
                               f"/admin/privacy/requests/{step.request_id}"))
    return sorted(out, key=lambda item: item.due)


def reminder_items(session: Session, user: User) -> list[ReminderItem]:
    """Reminders to `user` about steps still open, neither read (the step opened) nor mailed yet, oldest first."""
    rows = session.execute(
        select(TaskReminder, Task, Case).join(Task, Task.id == TaskReminder.task_id)
        .join(Case, Case.id == TaskReminder.case_id)
        .where(TaskReminder.recipient == user.username, TaskReminder.read_at.is_(None),
               TaskReminder.mailed_at.is_(None), Task.state == "ready")
        .order_by(TaskReminder.sent_at, TaskReminder.id)).all()
    senders = dict(session.execute(select(User.username, User.full_name)
                                   .where(User.username.in_({r.sent_by for r, _t, _c in rows}))).all())
    # In the user's language: the digest is built outside a request, where the page's language is Vietnamese.
    locale = "en" if user.locale == "en" else "vi"
    return [ReminderItem(r, t, c, labels.step_title(t, c, locale), senders.get(r.sent_by, r.sent_by))
            for r, t, c in rows]


def build_digest(session: Session, user: User, now: datetime) -> Digest | None:
    """The digest mail for `user`, or None when nothing of theirs is overdue, due soon or reminded about."""
    locale = "en" if user.locale == "en" else "vi"
    with force_locale(locale):
        items = attention_items(session, user, now)
        privacy = privacy_items(session, user, now)
        reminders = reminder_items(session, user)
        if not items and not privacy and not reminders:
            return None
        late = sum(1 for i in items if i.overdue) + sum(1 for i in privacy if i.overdue)
        soon = len(items) + len(privacy) - late
        message = EmailMessage()
        message["Subject"] = _("[case56] %(late)s việc quá hạn, %(soon)s việc sắp đến hạn", late=late, soon=soon)
        message["From"] = current_app.config.get("MAIL_FROM") or "case56@localhost"
        message["To"] = user.email
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain="case56")
        message["Auto-Submitted"] = "auto-generated"
        body = render_template("mail/digest.txt", user=user, items=items, privacy=privacy, late=late, soon=soon,
                               reminders=reminders,
                               base_url=(current_app.config.get("CASE56_BASE_URL") or "").rstrip("/"),
                               today=clock.local(now))
        # Quoted-printable: safe through any relay, 8BITMIME or not.
        message.set_content(body, cte="quoted-printable")
    return Digest(user, items, message, privacy, reminders)


def recipients(session: Session) -> list[User]:
    return list(session.scalars(
        select(User).where(User.active.is_(True), User.email.is_not(None), User.email != "").order_by(User.id)))


def connect(config: dict) -> smtplib.SMTP:
    """An SMTP connection as configured: MAIL_SECURITY `tls` (implicit TLS, port 465), `starttls` (port 587;
    refused if the server does not offer it, never a silent fall-back to plain text) or `none` (a local relay);
    certificates are verified (the system's CAs, or MAIL_CA_FILE); MAIL_USERNAME logs in."""
    security = config.get("MAIL_SECURITY") or "none"
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or (465 if security == "tls" else 25))
    context = ssl.create_default_context(cafile=config.get("MAIL_CA_FILE") or None)
    smtp: smtplib.SMTP
    if security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=30, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
    try:
        if security == "starttls":
            smtp.ehlo()
            smtp.starttls(context=context)  # raises SMTPNotSupportedError when the server does not offer it
            smtp.ehlo()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_digests(session: Session, now: datetime | None = None) -> DigestResult:
    """Build and send every user's digest over one SMTP connection; a refused address does not stop the rest."""
    config = current_app.config
    result = DigestResult()
    if not config.get("MAIL_SERVER"):
        result.disabled = True
        return result
    now = now or clock.now()
    digests = []
    for user in recipients(session):
        digest = build_digest(session, user, now)
        if digest is None:
            result.skipped_no_tasks += 1
        else:
            digests.append(digest)
    if not digests:
        return result
    with connect(config) as smtp:
        for digest in digests:
            try:
                smtp.send_message(digest.message)
            except smtplib.SMTPRecipientsRefused as exc:
                result.failed.append((digest.user.username, str(exc.recipients)))
            else:
                result.sent.append(digest.user.username)
                if digest.reminders:  # a reminder is mailed once
                    session.execute(update(TaskReminder).where(
                        TaskReminder.id.in_([r.reminder.id for r in digest.reminders])).values(mailed_at=now))
                    session.commit()
    return result


def digest_command() -> None:
    """`case56 digest`: send today's digests and report what happened."""
    from web.extensions import db

    result = send_digests(db.session)
    if result.disabled:
        click.echo("MAIL_SERVER is not configured: no digest sent (MAIL_SERVER chưa được cấu hình, không gửi).")
        return
    click.echo(f"sent={len(result.sent)} nothing_due={result.skipped_no_tasks} failed={len(result.failed)}")
    for username, reason in result.failed:
        click.echo(f"  {username}: {reason}", err=True)
    if result.failed:
        raise SystemExit(1)
