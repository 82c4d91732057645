"""Admin authentication for admin routes: a valid key whose effective role is admin or owner."""

from __future__ import annotations

from quart import request

from hub_core.db.audit import Actor
from hub_core.errors import HubError
from hub_core.pipeline.context import current_request
from hub_core.types import Caller
from hub_core.web.api.common import current_hub


async def require_user() -> Caller:
    return await current_hub().gateway.authenticate(request)


async def require_admin() -> Caller:
    caller = await require_user()
    if not caller.is_admin:
        raise HubError(403, "forbidden", "Forbidden: admin role required")
    return caller


async def audit_actor(caller: Caller | None = None) -> Actor:
    """The signed-in caller as the audit log records them, with this request's id."""
    caller = caller or await require_user()
    info = current_request()
    return Actor("user", caller.user_id, caller.name, caller.key_id, info.request_id if info else None)
