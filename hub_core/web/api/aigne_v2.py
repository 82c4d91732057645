"""The AIGNE-native API under ``/api/v2`` (what ``@aigne/aigne-hub`` and AIGNE apps call): chat in the agent
invocation envelope, the older camelCase chat format, images, video and embeddings.

Each handler translates (`hub_core.web.dialects`) and runs the same gateway pipeline as ``/v1``. The model
list, status and user routes (`aigne_catalog`) and the generated-media route (`hub_core.web.media`) are
mounted with this blueprint. Every error is ``{"error": {"message", "type", "code"}}``, which the SDK raises
as is.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from quart import Blueprint, Response, request

from hub_core.pipeline.video import VideoJob
from hub_core.web import media
from hub_core.web.api import aigne_catalog
from hub_core.web.api.common import aigne_error, as_hub_error, current_hub, json_body, json_response
from hub_core.web.dialects.aigne import parse_chat
from hub_core.web.dialects.aigne_legacy import LegacySSE, LegacyText, legacy_json, parse_completions
from hub_core.web.dialects.aigne_media import (
    MediaCall,
    bare_model,
    images_of,
    parse_embeddings,
    parse_image,
    parse_image_generations,
    parse_video,
    vectors_of,
)
from hub_core.web.dialects.aigne_output import AigneSSE, ChatOutput, UsageOf, usage_out

if TYPE_CHECKING:
    from hub_core.hub import Hub
    from hub_core.pipeline.gateway import CallContext, StreamRenderer, UpstreamStream

log = structlog.get_logger("hub_core.web.api.aigne")
bp = Blueprint("aigne_v2", __name__)
bp.register_blueprint(aigne_catalog.bp)
bp.register_blueprint(media.bp)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return aigne_error(as_hub_error(exc))  # as_hub_error logs what it cannot explain


async def _start(
    endpoint: str, kind: str, parse: Callable[[dict[str, Any]], Any], stream: bool | None = None
) -> tuple[Hub, Any, CallContext]:
    """Authenticate (before reading the body, so a bad key is a 401 whatever the body), parse, begin."""
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)
    call = parse(await json_body())
    if stream is None:
        stream = bool(getattr(call, "stream", False))
    ctx = hub.gateway.begin(request, caller, endpoint=endpoint, kind=kind, model=call.model, stream=stream)
    return hub, call, ctx


def usage_of(hub: Hub) -> UsageOf:
    """How to report a call's usage: its tokens, with its credits when the active billing mode charges.
    Bound to the hub up front, because a stream's last chunk is rendered outside the request context."""
    billing = hub.gateway.billing

    def usage(ctx: CallContext) -> dict[str, Any]:
        return usage_out(ctx.record.usage, billing.credits_for(ctx.hold, ctx.record), billing.credit_prefix)

    return usage


def _model_with_provider(ctx: CallContext) -> str | None:
    return ctx.route.model_with_provider if ctx.route else None


def _stream(
    hub: Hub, ctx: CallContext, upstream: UpstreamStream, renderer: StreamRenderer, kind: str
) -> Response:
    body = hub.gateway.relay(ctx, upstream, renderer)
    return Response(body, content_type=kind, headers=SSE_HEADERS)  # type: ignore[arg-type]


# --- chat ------------------------------------------------------------------------------------------------


@bp.post("/api/v2/chat")
async def chat() -> Response:
    hub, call, ctx = await _start("/api/v2/chat", "chat", parse_chat)
    if not call.stream:
        result = await hub.gateway.call_json(ctx, call.model, call.payload)
        out = ChatOutput(call.json_mode)
        out.add_completion(result.json())
        files = media.file_entries(call.output)
        return json_response(out.result(usage_of(hub)(ctx), _model_with_provider(ctx), files))
    upstream = await hub.gateway.call_stream(ctx, call.model, call.payload)
    return _stream(
        hub,
        ctx,
        upstream,
        AigneSSE(ctx, call.json_mode, usage_of(hub), media.file_entries(call.output)),
        "text/event-stream",
    )


@bp.post("/api/v2/chat/completions")
@bp.post("/api/v2/completions")
async def completions() -> Response:
    endpoint = (
        "/api/v2/completions" if request.path.endswith("/v2/completions") else "/api/v2/chat/completions"
    )
    wants_sse = "text/event-stream" in request.headers.get("accept", "")
    # a stream when the client accepts SSE; otherwise the body's ``stream`` decides (plain text or JSON)
    hub, call, ctx = await _start(endpoint, "chat", parse_completions, stream=wants_sse or None)
    if not ctx.record.stream:
        result = await hub.gateway.call_json(ctx, call.model, call.payload)
        out = ChatOutput(json_mode=False)
        out.add_completion(result.json())
        return json_response(legacy_json(out))
    upstream = await hub.gateway.call_stream(ctx, call.model, call.payload)
    if wants_sse:
        return _stream(hub, ctx, upstream, LegacySSE(ctx), "text/event-stream")
    return _stream(hub, ctx, upstream, LegacyText(), "text/plain; charset=utf-8")


# --- images ----------------------------------------------------------------------------------------------


async def _generate_images(
    endpoint: str, parse: Callable[[dict[str, Any]], MediaCall]
) -> tuple[MediaCall, CallContext, list[dict[str, Any]]]:
    """Run an image call and keep its pictures: stored under unguessable names (URL output) or inline."""
    hub, call, ctx = await _start(endpoint, "image", parse)
    result = await hub.gateway.call_json(ctx, call.model, call.payload)
    store = media.store()
    images = []
    for data, url, revised in images_of(result.json()):
        entry: dict[str, Any] = {"mimeType": media.sniff(data) if data else "image/png"}
        if data is not None and call.output == "file":
            entry["data"] = base64.b64encode(data).decode()
        elif data is not None:
            entry["url"] = media.media_url(await store.save_async(data, entry["mimeType"]))
        else:
            entry["url"] = url  # the upstream already serves it publicly
        if revised:
            entry["revisedPrompt"] = revised
        images.append(entry)
    return call, ctx, images


@bp.post("/api/v2/image")
async def image() -> Response:
    call, ctx, images = await _generate_images("/api/v2/image", parse_image)
    files = [{"type": "file", **img} if "data" in img else {"type": "url", **img} for img in images]
    return json_response(
        {
            "images": files,
            "usage": usage_of(current_hub())(ctx),
            "model": bare_model(call.model),
            "modelWithProvider": _model_with_provider(ctx),
        }
    )


@bp.post("/api/v2/image/generations")
async def image_generations() -> Response:
    call, ctx, images = await _generate_images("/api/v2/image/generations", parse_image_generations)
    items = []
    for img in images:
        item: dict[str, Any] = {"url": img["url"]} if "url" in img else {}
        if "data" in img:
            item.update(base64=img["data"], b64_json=img["data"], b64Json=img["data"])
        if "revisedPrompt" in img:
            item["revised_prompt"] = img["revisedPrompt"]
        items.append(item)
    return json_response(
        {
            "images": items,
            "data": items,
            "model": bare_model(call.model),
            "usage": usage_of(current_hub())(ctx),
        }
    )


# --- video and embeddings --------------------------------------------------------------------------------


@bp.post("/api/v2/video")
async def video() -> Response:
    hub, call, ctx = await _start("/api/v2/video", "video", parse_video)
    job = VideoJob(hub.gateway, ctx)
    await hub.gateway.call_json(ctx, call.model, call.payload, then=job)
    mime = media.sniff(job.content, default="video/mp4")
    if call.output == "file":
        clip: dict[str, Any] = {
            "type": "file",
            "data": base64.b64encode(job.content).decode(),
            "mimeType": mime,
        }
    else:
        name = await media.store().save_async(job.content, mime)
        clip = {"type": "url", "url": media.media_url(name), "mimeType": mime}
    seconds = ctx.record.usage.seconds
    return json_response(
        {
            "videos": [clip],
            "seconds": int(seconds) if float(seconds).is_integer() else seconds,
            "usage": usage_of(current_hub())(ctx),
            "model": bare_model(call.model),
            "modelWithProvider": _model_with_provider(ctx),
        }
    )


@bp.post("/api/v2/embeddings")
async def embeddings() -> Response:
    hub, call, ctx = await _start("/api/v2/embeddings", "embedding", parse_embeddings)
    result = await hub.gateway.call_json(ctx, call.model, call.payload)
    answer = result.json()
    return json_response(
        {
            "embeddings": vectors_of(answer),
            "model": answer.get("model") or bare_model(call.model),
            "usage": usage_of(current_hub())(ctx),
            "modelWithProvider": _model_with_provider(ctx),
        }
    )
