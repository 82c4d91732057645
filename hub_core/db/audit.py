"""The audit log of admin changes: who changed what, when, and the record before and after.

The admin operations (`hub_core.admin`, `hub_core.billing.rates`, the billing mode) call `record` with the
actor their caller passes: the admin API passes the signed-in user and key, the CLI passes `CLI`. A direct
in-process call that passes no actor (the test kit, a script) is recorded as ``system``. It lives beside the
tables because the billing layers below `hub_core.admin` record changes too.

Secrets never reach the log: callers hand in the dicts the admin API shows (credentials masked), and `clean`
masks any key that looks like a secret as a second line of defence."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub_core.db import models as m
from hub_core.types import AuditActor

#: the public `hub_core.AuditActor`, under the name the core's callers use
Actor = AuditActor

MASK = "***"
#: key names whose values are secrets wherever they appear in a before/after record
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|api[_-]?key|apikey|private|ciphertext|authorization)", re.I
)
#: keys never worth keeping in a diff: they change on every write or are not the admin's change
_NOISE = {"updatedAt", "updated_at", "usageCount", "lastUsedAt"}


CLI = Actor("cli", name="cli")
SYSTEM = Actor("system", name="system")


def clean(value: Any, *, key: str = "") -> Any:
    """A JSON-safe copy of `value` with secret-looking keys masked (their values never stored)."""
    if key and _SECRET_KEY.search(key) and value not in (None, "", {}, []):
        return MASK
    if isinstance(value, dict):
        return {str(k): clean(v, key=str(k)) for k, v in value.items() if k not in _NOISE}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


async def record(
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: object | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> m.AuditEntry:
    who = actor or SYSTEM
    return await m.AuditEntry.create(
        created_at=datetime.now(UTC),
        actor=who.kind,
        actor_user_id=who.user_id,
        actor_name=who.name,
        actor_key_id=who.key_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:200],
        before=clean(before) if before is not None else None,
        after=clean(after) if after is not None else None,
        request_id=who.request_id,
    )


def entry_dict(row: m.AuditEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "createdAt": row.created_at.isoformat(),
        "actor": {
            "kind": row.actor,
            "userId": row.actor_user_id,
            "name": row.actor_name,
            "keyId": row.actor_key_id,
        },
        "action": row.action,
        "targetType": row.target_type,
        "targetId": row.target_id,
        "before": row.before,
        "after": row.after,
        "requestId": row.request_id,
    }


async def search(
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[int, list[m.AuditEntry]]:
    """Entries newest first. `actor` is a user id, ``cli``/``system`` or part of a name; `action` a prefix
    (``provider.`` or ``provider.create``); `since` inclusive and `until` exclusive."""
    query = m.AuditEntry.all()
    if actor:
        if actor.isdigit():
            query = query.filter(actor_user_id=int(actor))
        elif actor in ("cli", "system", "user"):
            query = query.filter(actor=actor)
        else:
            query = query.filter(actor_name__icontains=actor)
    if action:
        query = query.filter(action__startswith=action)
    if target_type:
        query = query.filter(target_type=target_type)
    if target_id:
        query = query.filter(target_id=target_id)
    if since:
        query = query.filter(created_at__gte=since)
    if until:
        query = query.filter(created_at__lt=until)
    count = await query.count()
    rows = await query.order_by("-created_at", "-id").offset((page - 1) * page_size).limit(page_size)
    return count, rows
