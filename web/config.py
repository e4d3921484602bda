"""Configuration from the environment. SQLite file by default; PostgreSQL by DATABASE_URL."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from engine.models import database_url

DEFAULT_SECRET = "dev-only-change-me"


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so a development app keeps its sessions across restarts."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _instance_attachment_key(instance: Path) -> str:
    """Development and tests only: a generated attachment key kept in the instance folder (beside the files it
    protects, so it protects nothing there); production takes CASE56_ATTACHMENT_KEYS from the environment."""
    from engine.crypto import new_key_line

    path = instance / "attachment_keys"
    if not path.exists():  # written aside and linked into place: processes starting together agree on one key
        instance.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=instance, prefix=".attachment_keys-")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(new_key_line("dev"))
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    return path.read_text().strip()


def from_environment(instance: Path) -> dict[str, Any]:
    env = os.environ
    production = env.get("CASE56_ENV", "development") == "production"
    url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'case56.sqlite3'}"
    secret = env.get("SECRET_KEY") or ("" if production else _instance_secret(instance))
    return {
        "CASE56_ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": database_url(url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": secret,
        "CASE56_TIMEZONE": env.get("CASE56_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": env.get("CASE56_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or env.get("SESSION_COOKIE_SECURE") == "1",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": int(env.get("CASE56_SESSION_SECONDS", 8 * 3600)),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which expires on its own
        "MAX_CONTENT_LENGTH": int(env.get("CASE56_MAX_UPLOAD_MB", 20)) * 1024 * 1024,
        # A new report received longer ago than this many days is refused (a typing slip, not a late report).
        "CASE56_RECEIPT_MAX_AGE_DAYS": int(env.get("CASE56_RECEIPT_MAX_AGE_DAYS", 5 * 365)),
        "CASE56_ATTACHMENTS": env.get("CASE56_ATTACHMENTS", str(instance / "attachments")),
        # id:base64key[,id:base64key…], the first encrypts (engine.crypto); none in production: uploads refused.
        "CASE56_ATTACHMENT_KEYS": env.get("CASE56_ATTACHMENT_KEYS")
        or ("" if production else _instance_attachment_key(instance)),
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(env.get("MAIL_PORT", 25)),
        "MAIL_FROM": env.get("MAIL_FROM", "case56@localhost"),
        "MAIL_SECURITY": env.get("MAIL_SECURITY", "none"),  # none | starttls | tls
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_CA_FILE": env.get("MAIL_CA_FILE", ""),  # a private CA for the relay; the system's by default
        "CASE56_BASE_URL": env.get("CASE56_BASE_URL", ""),
        "CASE56_PROXY_COUNT": int(env.get("CASE56_PROXY_COUNT", 0)),
        "CASE56_MONITOR_ALLOW": env.get("CASE56_MONITOR_ALLOW", "127.0.0.1/32,::1/128"),
        "CASE56_TICK_STALE_MINUTES": int(env.get("CASE56_TICK_STALE_MINUTES", 5)),
        "CASE56_LOG_FORMAT": env.get("CASE56_LOG_FORMAT", "json"),
        "CASE56_LOG_LEVEL": env.get("CASE56_LOG_LEVEL", "INFO"),
        # The national children database export (engine.national_db): "download" (default), "directory" (also
        # written to CASE56_NATIONAL_DB_DIR), or a deployment's own "package.module:Class".
        "CASE56_NATIONAL_DB_EXPORTER": env.get("CASE56_NATIONAL_DB_EXPORTER", "download"),
        "CASE56_NATIONAL_DB_DIR": env.get("CASE56_NATIONAL_DB_DIR", ""),
    }


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start in production with a default secret or debug mode."""
    if config.get("CASE56_ENV") != "production":
        return
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET or len(config["SECRET_KEY"]) < 32:
        raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters in production")
    if config.get("DEBUG"):
        raise RuntimeError("debug mode is not allowed in production")
    if config.get("CASE56_ATTACHMENT_KEYS"):
        from engine.crypto import Keyring

        Keyring.parse(config["CASE56_ATTACHMENT_KEYS"])  # a mistyped key stops the start, with the reason
    if config.get("MAIL_SECURITY") not in {"none", "starttls", "tls"}:
        raise RuntimeError("MAIL_SECURITY must be none, starttls or tls")
