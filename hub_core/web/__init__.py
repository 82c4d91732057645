"""The web layer: the Quart app factory, the per-request ASGI handler, the blueprints of every API dialect
and the console.

This module is also the public API for plugins that add routes (``register_routes``): the hub serving the
current request, its caller checks, the caller as the audit log names them (`audit_actor`), JSON in and out,
and the admin API's error shape.
"""

from hub_core.web.api.admin_auth import audit_actor, require_admin, require_user
from hub_core.web.api.common import (
    admin_error,
    as_hub_error,
    current_hub,
    json_body,
    json_response,
    request_base_url,
)

__all__ = [
    "admin_error",
    "as_hub_error",
    "audit_actor",
    "current_hub",
    "json_body",
    "json_response",
    "request_base_url",
    "require_admin",
    "require_user",
]
