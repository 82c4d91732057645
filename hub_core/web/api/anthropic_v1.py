"""The Anthropic-compatible client API: ``POST /v1/messages`` (JSON and named SSE events) and
``POST /v1/messages/count_tokens``, in Anthropic's exact format and error shape, for any provider behind it.

Mounted at ``/v1`` next to the OpenAI blueprint; the paths do not overlap (OpenAI has no ``/v1/messages``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from quart import Blueprint, Response, request

from hub_core.billing.pricing import fair_prompt_tokens
from hub_core.default_plugins.routing import split_model
from hub_core.pipeline.gateway import request_id_of
from hub_core.web.api.common import as_hub_error, current_hub, json_body, json_response
from hub_core.web.dialects import anthropic as dialect

if TYPE_CHECKING:
    from hub_core.hub import Hub

log = structlog.get_logger("hub_core.web.api.anthropic")
bp = Blueprint("anthropic_v1", __name__, url_prefix="/v1")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
#: set on count_tokens answers the hub estimated because the provider cannot count
ESTIMATE_HEADER = "x-aigne-hub-token-estimate"


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    err = as_hub_error(exc)  # logs what it cannot explain
    rid = request_id_of(request)
    return json_response(dialect.error_body(err, rid), err.status, {**err.headers, "request-id": rid})


def extensions_for(hub: Hub, model: str) -> frozenset[str]:
    """The standard extensions to send: those the named provider reads; for a bare model name, those every
    usable provider reads (routing may pick any of them)."""
    enabled = hub.host.enabled_providers()
    name, _ = split_model(model, hub.host.providers)
    if name is not None:
        return dialect.common_extensions([enabled[name]] if name in enabled else [])
    usable = []
    for provider_name, provider in enabled.items():
        cfg = hub.routing.provider_config(provider_name, provider)
        if cfg is not None and cfg.enabled:
            usable.append(provider)
    return dialect.common_extensions(usable)


@bp.post("/messages")
async def messages() -> Response:
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)
    body = await json_body()
    model = dialect.validate(body)
    payload = dialect.standard_request(
        body, extensions_for(hub, model), beta=request.headers.get("anthropic-beta")
    )
    stream = bool(body.get("stream"))
    ctx = hub.gateway.begin(request, caller, endpoint="/v1/messages", kind="chat", model=model, stream=stream)
    headers = {"request-id": ctx.record.request_id}
    if not stream:
        result = await hub.gateway.call_json(ctx, model, payload)
        return json_response(dialect.to_message(result.json(), result.usage, model), headers=headers)
    upstream = await hub.gateway.call_stream(ctx, model, payload)
    renderer = dialect.AnthropicSSE(model, upstream)
    return Response(
        hub.gateway.relay(ctx, upstream, renderer),
        content_type="text/event-stream",
        headers={**SSE_HEADERS, **headers},
    )


@bp.post("/messages/count_tokens")
async def count_tokens() -> Response:
    """The provider's own count when it can give one (``count_tokens`` capability), else the hub's
    estimate (about four bytes a token, images at a flat rate), marked with `ESTIMATE_HEADER`."""
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)
    body = await json_body()
    model = dialect.validate(body, count_only=True)
    payload = dialect.standard_request(
        body, extensions_for(hub, model), beta=request.headers.get("anthropic-beta"), count_only=True
    )
    gateway = hub.gateway
    ctx = gateway.begin(
        request, caller, endpoint="/v1/messages/count_tokens", kind="count_tokens", model=model
    )
    try:
        # routed as the chat call it prepares, so an unknown model is a 404 as on Anthropic
        route = await gateway.route(ctx, model, "chat")
        if route.provider.supports("count_tokens"):
            tokens, estimated = (
                int((await gateway.complete(ctx, route, payload)).json()["input_tokens"]),
                False,
            )
        else:
            tokens, estimated = fair_prompt_tokens(payload, "chat"), True
            ctx.record.extra["token_count_estimated"] = True
    except BaseException as exc:
        gateway.finish(ctx, exc)
        raise
    gateway.finish(ctx)
    headers = {"request-id": ctx.record.request_id}
    if estimated:
        headers[ESTIMATE_HEADER] = "true"
    return json_response({"input_tokens": tokens}, headers=headers)
