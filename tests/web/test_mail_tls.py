"""The digest through a relay that requires STARTTLS and a log-in (aiosmtpd, a self-signed certificate made
here): the mail arrives over TLS, logged in, with absolute links from CASE56_BASE_URL; without STARTTLS the
relay refuses it, and a certificate the configured CA did not sign is refused by case56."""

from __future__ import annotations

import email
import ssl
import subprocess
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from bench.http import free_port
from engine.models import User
from web.extensions import db


class Relay:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes, bool, str | None]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        user = session.authenticated and session.auth_data.login.decode()
        self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content, session.ssl is not None,
                              user or None))
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"case56", b"mat-khau")
    return AuthResult(success=ok, auth_data=auth_data)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smtp-tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=relay",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def relay(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, auth_required=True, auth_require_tls=True,
                            authenticator=authenticate)
    controller.start()
    yield controller, handler
    controller.stop()


def test_digest_over_starttls_with_login_and_absolute_links(demo_app, relay, certificate):
    controller, handler = relay
    with demo_app.app_context():
        db.session.scalar(select(User).where(User.username == "canbo")).email = "canbo@example.vn"
        db.session.commit()
        db.session.remove()
    demo_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="case56@ubnd.example.vn",
                           MAIL_SECURITY="starttls", MAIL_USERNAME="case56", MAIL_PASSWORD="mat-khau",
                           MAIL_CA_FILE=str(certificate[0]), CASE56_BASE_URL="https://baovetreem.example.gov.vn/")
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["digest"])
    assert result.exit_code == 0, result.output
    [(sender, recipients, raw, over_tls, user)] = handler.received
    assert over_tls and user == "case56" and recipients == ["canbo@example.vn"]
    body = email.message_from_bytes(raw, policy=policy.default).get_content()
    assert "https://baovetreem.example.gov.vn/tasks/" in body

    # Plain text to a relay that requires STARTTLS: refused, nothing sent.
    demo_app.config.update(MAIL_SECURITY="none", MAIL_USERNAME="")
    result = runner.invoke(args=["digest"])
    assert result.exit_code != 0 and len(handler.received) == 1

    # A relay certificate the configured CA does not vouch for: case56 refuses to talk to it.
    demo_app.config.update(MAIL_SECURITY="starttls", MAIL_USERNAME="case56", MAIL_CA_FILE="")
    result = runner.invoke(args=["digest"])
    assert isinstance(result.exception, ssl.SSLCertVerificationError) and len(handler.received) == 1
