"""Introspection and discovery: health, ``/-/plugins``, and the Blocklet discovery document."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request

from hub_core import __version__
from hub_core.web.api.admin_auth import require_admin
from hub_core.web.api.common import admin_error, as_hub_error, current_hub, json_response

bp = Blueprint("meta", __name__)

HUB_DID = "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ"


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return admin_error(as_hub_error(exc))


@bp.get("/-/health")
async def health() -> Response:
    """Liveness: 200 while the hub serves, also when its database is down (keys it knows and calls without
    billing keep working, and a restart would not help); the body says whether the database answers."""
    hub = current_hub()
    db_ok = await hub.state.database_ok()
    return json_response(
        {
            "status": "ok" if db_ok else "degraded",
            "database": "ok" if db_ok else "unavailable",
            "version": __version__,
            "pendingUsageRecords": hub.writer.pending,
        }
    )


@bp.get("/-/ready")
async def ready() -> Response:
    """Readiness: 503 while the database does not answer within AIGNE_HUB_DB_TIMEOUT."""
    db_ok = await current_hub().state.database_ok()
    body = {"status": "ready" if db_ok else "unavailable", "database": "ok" if db_ok else "unavailable"}
    return json_response(body, status=200 if db_ok else 503)


@bp.get("/-/plugins")
async def plugins() -> Response:
    await require_admin()
    return json_response(current_hub().host.describe())


@bp.get("/__blocklet__.js")
async def blocklet_discovery() -> Response:
    hub = current_hub()
    mount = hub.settings.mount_path or "/"
    origin = f"{request.scheme}://{request.host}"
    doc = {
        "appId": HUB_DID,
        "appPid": HUB_DID,
        "appName": "AIGNE Hub",
        "appUrl": origin,
        "version": __version__,
        "componentId": HUB_DID,
        "prefix": mount,
        "componentMountPoints": [
            {"title": "AIGNE Hub", "name": "ai-kit", "did": HUB_DID, "status": "running", "mountPoint": mount}
        ],
    }
    if request.args.get("type") == "json":
        return json_response(doc)
    import json

    return Response(f"window.blocklet = {json.dumps(doc)};", content_type="application/javascript")


@bp.record_once
def _discovery_at_origin(state: Any) -> None:
    """Clients fetch ``{origin}/__blocklet__.js`` whatever the mount path (that is how they find it), so a
    hub mounted under a prefix answers there as well as under the prefix."""
    if state.url_prefix and state.url_prefix != "/":
        state.app.add_url_rule(
            "/__blocklet__.js", "blocklet_discovery_at_origin", blocklet_discovery, methods=["GET"]
        )
