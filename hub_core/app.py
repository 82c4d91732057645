"""`create_app()`: wiring only. Builds a fresh `Hub` and mounts the blueprints under the mount path."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint

import structlog
from quart import Quart, Response, request

from hub_core import db
from hub_core.api import admin, aigne_v2, anthropic_v1, meta, openai_v1, session, ui, usage
from hub_core.api import billing as billing_api
from hub_core.api.common import admin_error, as_hub_error, request_header
from hub_core.config import Settings
from hub_core.hub import Hub
from hub_core.logging import configure_logging, new_context
from hub_core.types import random_id

log = structlog.get_logger("hub_core.app")


def create_app(
    settings: Settings | None = None, *, entry_points: Iterable[EntryPoint] | None = None
) -> Quart:
    settings = settings or Settings.from_env()
    configure_logging(settings)
    app = Quart("hub_core")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        RESPONSE_TIMEOUT=None,  # streams may run for minutes; upstream timeouts govern instead
        BODY_TIMEOUT=120,
        PROVIDE_AUTOMATIC_OPTIONS=True,
    )
    hub = Hub(settings, entry_points)
    app.extensions["aigne_hub"] = hub
    prefix = settings.mount_path

    for bp in (openai_v1.bp, anthropic_v1.bp, aigne_v2.bp, admin.bp, meta.bp, billing_api.bp, usage.bp):
        app.register_blueprint(bp, url_prefix=prefix + (bp.url_prefix or ""))
    for plugin_name, bp in hub.host.blueprints:
        _register_plugin_blueprint(app, hub, plugin_name, bp, prefix)
    app.register_blueprint(session.bp, url_prefix=prefix)
    app.register_blueprint(ui.bp, url_prefix=prefix)  # the console SPA; its catch-all skips API paths

    @app.before_request
    async def _bind_request() -> None:
        if hub.db is not None:
            db.activate(hub.db)
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not four
        rid = request_header(req, "x-request-id") or random_id()
        req.hub_request_id = rid
        new_context(request_id=rid, path=req.path)  # the log context of this request only

    @app.after_request
    async def _tag_response(response: Response) -> Response:
        if not _has_header(response, "x-request-id"):
            response.headers["x-request-id"] = getattr(request, "hub_request_id", "")
        return hub.gateway.billing.tag_response(response)  # x-aigne-hub-credits: the call's cost

    @app.errorhandler(Exception)
    async def _fallback(exc: Exception) -> Response:
        return admin_error(as_hub_error(exc))  # as_hub_error logs what it cannot explain

    @app.before_serving
    async def _start() -> None:
        await hub.start()

    @app.after_serving
    async def _stop() -> None:
        await hub.stop()

    return app


def _has_header(response: Response, name: str) -> bool:
    # not `headers.setdefault`: werkzeug raises and catches an exception when the header is absent
    return any(key.lower() == name for key, _ in response.headers.items())


def _register_plugin_blueprint(app: Quart, hub: Hub, plugin_name: str, bp: object, prefix: str) -> None:
    """Mount a plugin's routes; they answer 404 while the plugin is disabled."""
    from hub_core.api.common import current_hub
    from hub_core.errors import not_found

    if not getattr(bp, "_aigne_hub_guarded", False):

        @bp.before_request  # type: ignore[attr-defined]
        async def _only_when_enabled() -> None:
            if not current_hub().host.is_enabled(plugin_name):
                raise not_found("Not found")

        bp._aigne_hub_guarded = True  # type: ignore[attr-defined]
    app.register_blueprint(bp, url_prefix=prefix + (getattr(bp, "url_prefix", None) or ""))  # type: ignore[arg-type]
