"""Admin authentication for admin routes: a valid key whose effective role is admin or owner."""

from __future__ import annotations

from quart import request

from hub_core.errors import HubError
from hub_core.pipeline.context import current_request
from hub_core.types import AuditActor, Caller
from hub_core.web.api.common import current_hub


async def require_user() -> Caller:
    return await current_hub().gateway.authenticate(request)


async def require_admin() -> Caller:
    caller = await require_user()
    if not caller.is_admin:
        raise HubError(403, "forbidden", "Forbidden: admin role required")
    return caller


async def audit_actor(caller: Caller | None = None) -> AuditActor:
    """The signed-in caller (or `caller`, e.g. what `require_admin` returned) as the audit log names them,
    with this request's id: the ``actor`` of ``hub.audit`` for a change made through a route."""
    caller = caller or await require_user()
    info = current_request()
    return AuditActor("user", caller.user_id, caller.name, caller.key_id, info.request_id if info else None)
