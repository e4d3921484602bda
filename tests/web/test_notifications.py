"""The daily e-mail digest, sent to a local SMTP server the test starts (stdlib socketserver, no dependency)."""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from engine import access, clock, worklists
from engine.models import User
from web.extensions import db

REFUSED = "refused@example.vn"


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        sender, recipients, data, reading = None, [], [], False
        while line := self.rfile.readline():
            if reading:
                if line.rstrip(b"\r\n") == b".":
                    self.server.received.append((sender, recipients, b"".join(data)))
                    sender, recipients, data, reading = None, [], [], False
                    self.reply("250 queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip(" <>")
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip(" <>")
                if address == REFUSED:
                    self.reply("550 no such user")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                reading = True
                self.reply("354 end with <CRLF>.<CRLF>")
            elif verb in ("RSET", "NOOP"):
                sender, recipients, data = (None, [], []) if verb == "RSET" else (sender, recipients, data)
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.received: list[tuple[str, list[str], bytes]] = []


@pytest.fixture
def smtp_server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _expected(app, username: str) -> list[tuple[str, str, str]]:
    """(step, title, case number) of the user's overdue and due-within-24-hours tasks and their escalations to
    acknowledge, from the inbox query."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        actor = access.Actor.of(user.username, user.role, user.org_unit, user.id)
        rows = worklists.inbox(db.session, actor, size=1000).rows
        horizon = clock.now() + timedelta(hours=24)
        return [(t.step, t.title, c.number) for t, c in rows
                if (t.due_at is not None and t.due_at < horizon) or t.escalates_task_id is not None]


def test_daily_digest_over_smtp(demo_app, smtp_server):
    addresses = {"canbo": "canbo@example.vn", "canbo2": "canbo2@example.vn", "chutich2": "chutich2@example.vn",
                 "giamsat": "giamsat@example.vn", "thanhtra": "thanhtra@example.vn", "canbo1b": REFUSED}
    with demo_app.app_context():
        # A second officer of T01-X01 (same inbox as canbo) whose address the server refuses.
        canbo = db.session.scalar(select(User).where(User.username == "canbo"))
        db.session.add(User(username="canbo1b", full_name="Cán Bộ Phụ", role="officer", org_unit_id=canbo.org_unit_id,
                            password_hash=canbo.password_hash, created_at=clock.now(), locale="vi"))
        db.session.flush()
        for user in db.session.scalars(select(User)):
            user.email = addresses.get(user.username)
            user.locale = "en" if user.username == "canbo2" else "vi"
        db.session.commit()
    runner = demo_app.test_cli_runner()

    # No MAIL_SERVER: nothing is sent, and the command says so.
    demo_app.config["MAIL_SERVER"] = ""
    result = runner.invoke(args=["digest"])
    assert result.exit_code == 0 and "MAIL_SERVER" in result.output and "no digest sent" in result.output
    assert smtp_server.received == []

    demo_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.server_address[1],
                           MAIL_FROM="case56@ubnd.example.vn")
    expected = {u: _expected(demo_app, u) for u in addresses}
    with_tasks = {u for u, items in expected.items() if items}
    assert {"canbo", "canbo2", "giamsat"} <= with_tasks  # the demo has late steps for each of them
    assert not expected["thanhtra"]  # an inspector has no tasks: no mail
    result = runner.invoke(args=["digest"])
    # The refused address is reported and makes the command fail; the others are still sent.
    assert result.exit_code == 1, result.output
    assert "canbo1b" in with_tasks
    sent = len(with_tasks - {"canbo1b"})
    assert f"sent={sent} " in result.output and "failed=1" in result.output and "canbo1b" in result.output
    messages = {}
    for sender, recipients, raw in smtp_server.received:
        message = email.message_from_bytes(raw, policy=policy.default)
        assert sender == "case56@ubnd.example.vn" and recipients == [message["To"]]
        messages[message["To"]] = message
    assert set(messages) == {addresses[u] for u in with_tasks - {"canbo1b"}}

    from web import engine as web_engine

    with demo_app.app_context():
        titles_en = {s.step: s.title_en for s in web_engine().registry.current.steps.values()}
    for username in with_tasks - {"canbo1b"}:
        message = messages[addresses[username]]
        body = message.get_content()
        english = username == "canbo2"
        for step, title, number in expected[username]:
            assert (titles_en[step] if english else title) in body, (username, step)
            assert number in body
            assert "/tasks/" in body
        late = sum(1 for line in body.splitlines() if ("OVERDUE" if english else "QUÁ HẠN") in line)
        assert late >= 1
        if english:
            assert message["Subject"].startswith("[case56]") and "overdue" in message["Subject"]
            assert "Hello" in body
        else:
            assert "việc quá hạn" in message["Subject"] and "Xin chào" in body
        # Case numbers and steps only: no child's name leaves the system by e-mail.
        for name in ("Lê Thị Hoa", "Bùi Văn Tâm", "Nguyễn Văn An", "Phạm Minh Khang"):
            assert name not in body
