"""Console sign-in sessions: an access key is exchanged once for a random session token kept in an HttpOnly,
SameSite=Strict cookie and stored server-side only as a SHA-256 hash, tied to the key that signed in.

Every request authenticated by the cookie re-checks the key (revoked, expired, user disabled), so revoking a
key ends its sessions at once; sign-out deletes the row. Requests that change state and are authenticated by
the cookie must also send ``X-CSRF-Token`` equal to the token derived from the session (the SPA reads it from
the non-HttpOnly ``aigne_hub_csrf`` cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from quart import Request

from hub_core.db import models as m
from hub_core.errors import HubError
from hub_core.types import ROLE_RANK, Caller

SESSION_COOKIE = "aigne_hub_session"
CSRF_COOKIE = "aigne_hub_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL = timedelta(days=7)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PREFIX = "ahs-"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """Derived, not stored: knowing the CSRF token reveals nothing about the session token."""
    return hashlib.sha256(b"csrf:" + session_token.encode()).hexdigest()


async def open_session(caller: Caller, user_agent: str | None = None) -> tuple[str, datetime]:
    """Create a session for a caller authenticated by an access key; returns (token, expires_at)."""
    if caller.key_id is None:
        raise HubError(400, "invalid_request", "Sign in with an access key")
    now = datetime.now(UTC)
    key = await m.AccessKey.get(id=caller.key_id)
    expires = now + SESSION_TTL
    if key.expires_at is not None and key.expires_at < expires:
        expires = key.expires_at
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await m.Session.filter(expires_at__lte=now).delete()  # keep the table small; cheap with the index
    await m.Session.create(
        token_hash=hash_token(token),
        key_id=caller.key_id,
        expires_at=expires,
        user_agent=(user_agent or "")[:200],
    )
    return token, expires


async def close_session(token: str) -> None:
    await m.Session.filter(token_hash=hash_token(token)).delete()


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and token.startswith(TOKEN_PREFIX) and len(token) < 100 else None


def check_csrf(request: Request, token: str) -> None:
    """State-changing requests authenticated by the cookie must prove they come from the console's pages."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, csrf_token_for(token)):
        raise HubError(403, "csrf_failed", "Forbidden: missing or wrong X-CSRF-Token header")


async def caller_from_session(request: Request) -> Caller | None:
    """The caller behind the session cookie, or None when there is no valid session (the request is then
    treated as anonymous, so a stale cookie never breaks public pages)."""
    token = session_token(request)
    if token is None:
        return None
    now = datetime.now(UTC)
    try:
        row = (
            await m.Session.filter(token_hash=hash_token(token), expires_at__gt=now)
            .select_related("key__user")
            .first()
        )
    except Exception as exc:  # the database is down: "try again", not "you are signed out"
        from hub_core.db.errors import unavailable

        raise unavailable() from exc
    if row is None:
        return None
    key, user = row.key, row.key.user
    if key.revoked_at is not None or user.disabled or (key.expires_at is not None and key.expires_at <= now):
        return None
    check_csrf(request, token)
    role = key.role if ROLE_RANK.get(key.role, 0) <= ROLE_RANK.get(user.role, 0) else user.role
    return Caller(user.id, user.did, user.name, role, key.id, key.name)  # type: ignore[arg-type]
