"""Console sign-in (``/api/auth/session``) and what every signed-in user may do for themselves
(``/api/me/keys``: their own access keys). Sessions are described in `hub_core.admin.sessions`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, Response, request

from hub_core.admin import sessions, users
from hub_core.db import models as m
from hub_core.errors import HubError, bad_request
from hub_core.types import ROLE_RANK, Caller
from hub_core.web.api.admin_auth import audit_actor, require_user
from hub_core.web.api.common import admin_error, as_hub_error, current_hub, json_body, json_response

bp = Blueprint("session", __name__)


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return admin_error(as_hub_error(exc))


def _caller_dict(caller: Caller, via: str) -> dict[str, Any]:
    return {
        "user": {"id": caller.user_id, "did": caller.user_did, "name": caller.name, "role": caller.role},
        "key": {"id": caller.key_id, "name": caller.key_name},
        "isAdmin": caller.is_admin,
        "via": via,
    }


def _cookie_path() -> str:
    return current_hub().settings.mount_path or "/"


def _is_https() -> bool:
    return request.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


# --- sign-in and sign-out ----------------------------------------------------------------------------


@bp.post("/api/auth/session")
async def sign_in() -> Response:
    """Exchange an access key for a session cookie. Only JSON is accepted: a cross-site HTML form cannot send
    it, which keeps other sites from signing a browser in with their own key (login CSRF)."""
    if request.mimetype != "application/json":
        raise HubError(415, "unsupported_media_type", 'Send the key as JSON: {"key": "ahk-..."}')
    body = await json_body()
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise bad_request("key is required", param="key")
    hub = current_hub()
    await hub.state.check_for_changes()
    caller = await hub.state.authenticate(key.strip(), request.remote_addr)
    token, expires = await sessions.open_session(caller, request.headers.get("user-agent"))
    csrf = sessions.csrf_token_for(token)
    resp = json_response(
        {**_caller_dict(caller, "session"), "csrfToken": csrf, "expiresAt": expires.isoformat()}
    )
    max_age = max(1, int((expires - datetime.now(UTC)).total_seconds()))
    common: dict[str, Any] = {"path": _cookie_path(), "secure": _is_https(), "samesite": "Strict"}
    resp.set_cookie(sessions.SESSION_COOKIE, token, max_age=max_age, httponly=True, **common)
    resp.set_cookie(sessions.CSRF_COOKIE, csrf, max_age=max_age, httponly=False, **common)
    return resp


@bp.get("/api/auth/session")
async def who_am_i() -> Response:
    caller = await require_user()
    token = sessions.session_token(request)
    via_session = token is not None and not _has_explicit_key()
    out = _caller_dict(caller, "session" if via_session else "key")
    if via_session and token is not None:
        out["csrfToken"] = sessions.csrf_token_for(token)
    return json_response(out)


def _has_explicit_key() -> bool:
    return bool(
        request.headers.get("authorization")
        or request.headers.get("x-api-key")
        or request.args.get("access_token")
    )


@bp.delete("/api/auth/session")
async def sign_out() -> Response:
    token = sessions.session_token(request)
    if token is not None:
        sessions.check_csrf(request, token)
        await sessions.close_session(token)
    resp = json_response({"message": "signed out"})
    for name in (sessions.SESSION_COOKIE, sessions.CSRF_COOKIE):
        resp.delete_cookie(name, path=_cookie_path(), samesite="Strict", secure=_is_https())
    return resp


# --- the caller's own access keys ---------------------------------------------------------------------


@bp.get("/api/me/keys")
async def my_keys() -> Response:
    caller = await require_user()
    try:
        page = max(1, int(request.args.get("page", 1)))
        size = min(100, max(1, int(request.args.get("pageSize", 20))))
    except ValueError as exc:
        raise bad_request("page and pageSize must be integers") from exc
    query = m.AccessKey.filter(user_id=caller.user_id)
    count = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * size).limit(size)
    items = [{**users.key_dict(k), "current": k.id == caller.key_id} for k in rows]
    return json_response({"count": count, "list": items, "paging": {"page": page, "pageSize": size}})


@bp.post("/api/me/keys")
async def create_my_key() -> Response:
    """A new key for the caller; its role is never higher than the caller's own."""
    caller = await require_user()
    body = await json_body()
    role = str(body.get("role") or caller.role)
    if ROLE_RANK.get(role, 0) > ROLE_RANK.get(caller.role, 0):
        raise HubError(403, "forbidden", f"Forbidden: a {caller.role} cannot create a {role} key")
    user = await users.get_user(caller.user_id)
    expires = await _within_own_expiry(caller, _expiry(body.get("expiresAt")))
    key, token = await users.create_key(
        user, str(body.get("name", "")), role, expires, actor=await audit_actor(caller)
    )
    return json_response({**users.key_dict(key), "key": token}, 201)


@bp.delete("/api/me/keys/<int:key_id>")
async def revoke_my_key(key_id: int) -> Response:
    caller = await require_user()
    hub = current_hub()
    key = await users.revoke_key(
        hub.settings, key_id, user_id=caller.user_id, actor=await audit_actor(caller)
    )
    await hub.state.reload()
    return json_response(users.key_dict(key))


async def _within_own_expiry(caller: Caller, wanted: datetime | None) -> datetime | None:
    """A key made with an expiring key expires with it at the latest: otherwise a key handed out for a day
    could mint itself a successor that never expires."""
    row = await m.AccessKey.get_or_none(id=caller.key_id) if caller.key_id is not None else None
    limit = row.expires_at if row is not None else None
    if limit is None:
        return wanted
    if wanted is None:
        return limit
    if wanted > limit:
        raise HubError(
            403, "forbidden", f"Forbidden: a key made with this key cannot outlive it ({limit.isoformat()})"
        )
    return wanted


def _expiry(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request("expiresAt must be an ISO 8601 date-time", param="expiresAt") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
