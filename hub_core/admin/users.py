"""Users and their access keys."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from hub_core.config import Settings
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import HubError, bad_request, not_found
from hub_core.infra import access_keys
from hub_core.runtime.state import bump_generation
from hub_core.types import ROLE_RANK, Caller

ROLES = ("owner", "admin", "member")


def _did() -> str:
    return "z" + secrets.token_hex(16)


def user_dict(user: m.User) -> dict[str, Any]:
    return {
        "id": user.id,
        "did": user.did,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "disabled": user.disabled,
        "createdAt": user.created_at.isoformat() if user.created_at else None,
    }


def key_dict(key: m.AccessKey) -> dict[str, Any]:
    now = datetime.now(UTC)
    status = "active"
    if key.revoked_at:
        status = "revoked"
    elif key.expires_at and key.expires_at < now:
        status = "expired"
    return {
        "id": key.id,
        "userId": key.user_id,  # type: ignore[attr-defined]
        "name": key.name,
        "prefix": key.prefix,
        "maskedKey": f"{key.prefix}…",
        "role": key.role,
        "status": status,
        "createdAt": key.created_at.isoformat() if key.created_at else None,
        "expiresAt": key.expires_at.isoformat() if key.expires_at else None,
        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
        "lastUsedAt": key.last_used_at.isoformat() if key.last_used_at else None,
    }


def check_role(role: str) -> str:
    if role not in ROLES:
        raise bad_request(f"role must be one of {', '.join(ROLES)}", param="role")
    return role


def authorize_user_change(actor: Caller, target_role: str | None, new_role: str | None = None) -> None:
    """Only an owner may create, change or hand out owner power; nobody grants more than they hold.

    Without this an admin could mint an owner (or an owner-role key) and then demote the real owner.
    """
    actor_rank = ROLE_RANK.get(actor.role, 0)
    if new_role is not None and ROLE_RANK.get(new_role, 0) > actor_rank:
        raise HubError(403, "forbidden", f"Forbidden: a {actor.role} cannot grant the {new_role} role")
    if target_role == "owner" and actor.role != "owner":
        raise HubError(403, "forbidden", "Forbidden: only an owner can manage an owner's account")


async def create_user(
    name: str, role: str = "member", email: str | None = None, *, actor: audit.Actor | None = None
) -> m.User:
    user = await create_user_with_did(_did(), name, role, email)
    await audit.record(actor, "user.create", "user", user.id, after=user_dict(user))
    return user


async def create_user_with_did(did: str, name: str, role: str = "member", email: str | None = None) -> m.User:
    """A user whose DID comes from elsewhere (an auth plugin's identity provider)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise bad_request("name is required (at most 200 characters)", param="name")
    if email is not None and len(email) > 254:
        raise bad_request("email is at most 254 characters", param="email")
    return await m.User.create(did=did, name=name, role=check_role(role), email=email)


async def get_user(user_id: int) -> m.User:
    user = await m.User.get_or_none(id=user_id)
    if user is None:
        raise not_found(f"User {user_id} not found")
    return user


async def update_user(
    settings: Settings, user_id: int, changes: dict[str, Any], *, actor: audit.Actor | None = None
) -> m.User:
    user = await get_user(user_id)
    before = user_dict(user)
    if "role" in changes:
        role = check_role(str(changes["role"]))
        if user.role == "owner" and role != "owner" and await _is_last_active_owner(user):
            raise HubError(409, "last_owner", "The hub must keep at least one active owner")
        user.role = role
    if "name" in changes:
        user.name = str(changes["name"]).strip() or user.name
    if "email" in changes:
        user.email = changes["email"] or None
    if "disabled" in changes:
        disable = bool(changes["disabled"])
        if disable and user.role == "owner" and await _is_last_active_owner(user):
            raise HubError(409, "last_owner", "The hub must keep at least one active owner")
        user.disabled = disable
    await user.save()
    await audit.record(actor, "user.update", "user", user.id, before=before, after=user_dict(user))
    await bump_generation(settings)
    return user


async def _is_last_active_owner(user: m.User) -> bool:
    """Demoting or disabling this user would leave no active owner (nobody could administer the hub)."""
    if user.disabled:
        return False
    return await m.User.filter(role="owner", disabled=False).exclude(id=user.id).count() == 0


def check_operator_key(token: str) -> str:
    """The operator's admin key (``AIGNE_HUB_ADMIN_KEY``), or a 400 saying what a usable one looks like."""
    problem = access_keys.operator_key_problem(token)
    if problem is not None:
        raise bad_request(problem)
    return token


async def ensure_owner() -> tuple[m.User, bool]:
    """The first start creates the owner; returns (owner, created)."""
    owner = await m.User.filter(role="owner").order_by("id").first()
    if owner is not None:
        return owner, False
    return await m.User.create(did=_did(), name="owner", role="owner"), True


async def create_key(
    user: m.User,
    name: str,
    role: str | None = None,
    expires_at: datetime | None = None,
    token: str | None = None,
    *,
    actor: audit.Actor | None = None,
) -> tuple[m.AccessKey, str]:
    """Create an access key (a fresh random token, or `token` when the operator chose it, checked with
    `check_operator_key`); returns the row and the token, which is never stored or shown again."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise bad_request("name is required (at most 200 characters)", param="name")
    role = check_role(role or ("admin" if user.role in ("owner", "admin") else "member"))
    if ROLE_RANK.get(role, 0) > ROLE_RANK.get(user.role, 0):
        # a key acts with the lower of its role and its user's: such a key would be listed as one role and
        # behave as another
        raise bad_request(
            f"A key cannot have a higher role than its user: {user.name} is a {user.role}", param="role"
        )
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise bad_request("expiresAt must be in the future", param="expiresAt")
    token = token or access_keys.generate()
    key = await m.AccessKey.create(
        user=user,
        name=name,
        prefix=access_keys.visible_prefix(token),
        key_hash=access_keys.hash_key(token),
        role=role,
        expires_at=expires_at,
    )
    await audit.record(actor, "key.create", "key", key.id, after=key_dict(key))  # the token is never kept
    return key, token


async def revoke_key(
    settings: Settings, key_id: int, user_id: int | None = None, *, actor: audit.Actor | None = None
) -> m.AccessKey:
    query = m.AccessKey.filter(id=key_id)
    if user_id is not None:
        query = query.filter(user_id=user_id)
    key = await query.first()
    if key is None:
        raise not_found(f"Access key {key_id} not found")
    if key.revoked_at is None:
        before = key_dict(key)
        key.revoked_at = datetime.now(UTC)
        await key.save()
        await audit.record(actor, "key.revoke", "key", key.id, before=before, after=key_dict(key))
        await bump_generation(settings)
    return key


async def find_key(ref: str) -> m.AccessKey | None:
    """By numeric id or by visible prefix."""
    if ref.isdigit():
        return await m.AccessKey.get_or_none(id=int(ref))
    return await m.AccessKey.filter(prefix=ref).first()
