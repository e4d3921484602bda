"""Personal API tokens: made, checked and revoked here; the web page is web/api/account.py.

A token is `c56_` + 43 random URL-safe characters (256 bits). Only its SHA-256 is stored, so a copy of
the database gives no usable token; the first 12 characters are kept as a prefix to tell tokens apart.
A random token that long needs no slow hash: nothing can be guessed from the digest.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from engine import access, audit, clock
from engine.models import ApiToken, User
from web.api.common import LOCALES, ApiError, _

PREFIX = "c56_"
PREFIX_LENGTH = 12
MAX_ACTIVE = 10  # per user: a leaked page of tokens stays small, and old ones get revoked
LAST_USED_EVERY = timedelta(minutes=5)  # record use at most this often: reads stay reads
EXPIRY_DAYS = (30, 90, 365, 0)  # 0 = no expiry


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class Issued:
    row: ApiToken
    token: str  # shown once, never stored


def active_count(session: Session, user_id: int) -> int:
    now = clock.now()
    return session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
        (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))) or 0


def issue(session: Session, user: User, name: str, days: int, by: str) -> Issued:
    """Create a token for `user` (the caller has checked the limits) and audit it; commits."""
    token = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(user_id=user.id, name=name, prefix=token[:PREFIX_LENGTH], token_hash=digest(token),
                   created_at=now, expires_at=now + timedelta(days=days) if days else None)
    session.add(row)
    session.flush()
    audit.append(session, by, "api_token_created", None,
                 {"token": row.id, "prefix": row.prefix, "user": user.username, "expires_at": row.expires_at})
    session.commit()
    return Issued(row, token)


def revoke(session: Session, row: ApiToken, by: str) -> None:
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = clock.now(), by
        audit.append(session, by, "api_token_revoked", None,
                     {"token": row.id, "prefix": row.prefix, "user": row.user.username})
        session.commit()


def _unauthorized(message: str, error: str | None = None) -> ApiError:
    challenge = 'Bearer realm="case56"' + (f', error="{error}"' if error else "")
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


def authenticate(session: Session) -> None:
    """Resolve `Authorization: Bearer <token>` to g.api_user / g.api_actor, or refuse with 401.

    Session cookies are ignored on purpose: the API is exempt from CSRF, so it must not act on a cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized(_("Cần mã truy cập API hợp lệ (Authorization: Bearer …)."))
    # One statement per request (issue 20): the token, its owner and the owner's unit (the actor's scope), read
    # fresh every time, so a revocation, an expiry or a deactivated account is refused on the next request.
    # The unit is loaded into `user.org_unit` (contains_eager), which keeps it: views reading it need no query.
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .outerjoin(User.org_unit).options(contains_eager(User.org_unit))
                            .where(ApiToken.token_hash == digest(token))).one_or_none() if len(token) < 200 else None
    row, user = found if found is not None else (None, None)
    now = clock.now()
    if (row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now)
            or user is None or not user.active):
        raise _unauthorized(_("Mã truy cập API không hợp lệ, đã hết hạn hoặc đã bị thu hồi."), "invalid_token")
    g.api_token = row
    g.api_user = user
    g.api_actor = access.Actor.of(user.username, user.role, user.org_unit, user.id)
    g.api_locale = request.accept_languages.best_match(LOCALES) or (
        user.locale if user.locale in LOCALES else "vi")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:  # after the reads: the commit expires
        row.last_used_at = now
        session.commit()


def status(row: ApiToken, now: datetime | None = None) -> str:
    """active | expired | revoked"""
    now = now or clock.now()
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"
