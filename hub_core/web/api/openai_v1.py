"""The OpenAI-compatible client API under ``/v1``: chat completions (JSON and SSE), embeddings, images
(generations, and multipart edits), models. Same-dialect providers stream through byte for byte."""

from __future__ import annotations

import json
import time
from typing import Any

import structlog
from quart import Blueprint, Response, request

from hub_core.errors import HubError, bad_request
from hub_core.providers.base import Chunk, NormalizedResponse
from hub_core.providers.image_edit import EDIT_FIELDS, INPUT_IMAGES, INPUT_MASK, MAX_INPUT_IMAGES, InputImage
from hub_core.web.api.common import as_hub_error, current_hub, json_body, json_response, openai_error
from hub_core.web.dialects.aigne_media import image_from_bytes

log = structlog.get_logger("hub_core.web.api.openai")
bp = Blueprint("openai_v1", __name__, url_prefix="/v1")

CHAT_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return openai_error(as_hub_error(exc))  # as_hub_error logs what it cannot explain


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request("model is required: a string such as 'openai/gpt-4o-mini'", param="model")
    return model.strip()


def validate_chat(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages must be a non-empty array", param="messages")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in CHAT_ROLES:
            raise bad_request(f"messages[{i}] must be an object with a valid role", param=f"messages[{i}]")
        content = msg.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise bad_request(f"messages[{i}].content must be a string or an array", param=f"messages[{i}]")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise bad_request("stream must be a boolean", param="stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("stream_options must be an object", param="stream_options")
    if "tools" in body and not isinstance(body["tools"], list):
        raise bad_request("tools must be an array", param="tools")
    n = body.get("n")
    if n is not None and (type(n) is not int or not 1 <= n <= 128):
        raise bad_request("n must be an integer between 1 and 128", param="n")


@bp.post("/chat/completions")
async def chat_completions() -> Response:
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)
    body = await json_body()
    model = _model(body)
    validate_chat(body)
    stream = bool(body.get("stream"))
    ctx = hub.gateway.begin(
        request, caller, endpoint="/v1/chat/completions", kind="chat", model=model, stream=stream
    )
    if not stream:
        return _raw_json(await hub.gateway.call_json(ctx, model, body))
    upstream = await hub.gateway.call_stream(ctx, model, body)
    renderer = OpenAISSE(wants_usage=bool((body.get("stream_options") or {}).get("include_usage")))
    return Response(
        hub.gateway.relay(ctx, upstream, renderer), content_type="text/event-stream", headers=SSE_HEADERS
    )


class OpenAISSE:
    """OpenAI's chunk stream: ``data: {chunk}`` events, ``data: [DONE]`` at the end. Upstream usage is only
    forwarded when the client asked for it (``stream_options.include_usage``)."""

    def __init__(self, wants_usage: bool) -> None:
        self.wants_usage = wants_usage

    def chunks(self, chunks: list[Chunk]) -> bytes:
        if self.wants_usage:  # every chunk as it came: the upstream's own bytes when it framed them plainly
            sse = getattr(chunks, "sse", None)
            if sse is not None:
                return sse
            return b"".join([b"data: " + chunk.to_bytes() + b"\n\n" for chunk in chunks])
        out = []
        for chunk in chunks:
            if chunk.usage_only and not self.wants_usage:
                continue
            data = chunk.to_bytes()
            if not self.wants_usage and b',"usage":null' in data:
                data = data.replace(b',"usage":null', b"")
            out.append(b"data: " + data + b"\n\n")
        return b"".join(out)

    def end(self) -> bytes:
        return b"data: [DONE]\n\n"

    def error(self, err: HubError) -> bytes:
        payload = {"error": {"message": err.message, "type": err.type, "param": None, "code": err.code}}
        return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _raw_json(result: NormalizedResponse) -> Response:
    if result.raw is not None:
        return Response(result.raw, content_type="application/json")
    return json_response(result.json())


@bp.post("/embeddings")
async def embeddings() -> Response:
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)
    body = await json_body()
    model = _model(body)
    inp = body.get("input")
    if not inp or not isinstance(inp, (str, list)):
        raise bad_request("input must be a non-empty string or array", param="input")
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise bad_request("encoding_format must be 'float' or 'base64'", param="encoding_format")
    ctx = hub.gateway.begin(request, caller, endpoint="/v1/embeddings", kind="embedding", model=model)
    return _raw_json(await hub.gateway.call_json(ctx, model, body))


@bp.post("/images/generations")
async def images() -> Response:
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)
    body = await json_body()
    model = _model(body)
    if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
        raise bad_request("prompt must be a non-empty string", param="prompt")
    n = body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
        raise bad_request("n must be an integer between 1 and 10", param="n")
    ctx = hub.gateway.begin(request, caller, endpoint="/v1/images/generations", kind="image", model=model)
    return _raw_json(await hub.gateway.call_json(ctx, model, body))


@bp.post("/images/edits")
async def image_edits() -> Response:
    """OpenAI's multipart edits form: ``image`` (or repeated ``image[]``), ``prompt``, ``model``, optional
    ``mask``, ``n`` and the generation fields; the hub passes it on as an edit of the routed provider."""
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)  # before reading the body, as the JSON endpoints do
    if request.mimetype != "multipart/form-data":
        raise bad_request("Image edits take a multipart/form-data body")
    form, files = await request.form, await request.files
    payload: dict[str, Any] = {k: form[k] for k in EDIT_FIELDS if form.get(k)}
    model = _model(payload)
    if not payload.get("prompt", "").strip():
        raise bad_request("prompt must be a non-empty string", param="prompt")
    n = payload.get("n", "1")
    if not n.isdigit() or not 1 <= int(n) <= 10:
        raise bad_request("n must be an integer between 1 and 10", param="n")
    payload["n"] = int(n)
    uploads = files.getlist("image") + files.getlist("image[]")
    if not uploads:
        raise bad_request("image is required: one file as image, or several as image[]", param="image")
    if len(uploads) > MAX_INPUT_IMAGES:
        raise bad_request(f"image may hold at most {MAX_INPUT_IMAGES} files", param="image")
    payload[INPUT_IMAGES] = [_upload(f, "image", i) for i, f in enumerate(uploads)]
    if "mask" in files:
        payload[INPUT_MASK] = _upload(files["mask"], "mask", 0)
    ctx = hub.gateway.begin(request, caller, endpoint="/v1/images/edits", kind="image", model=model)
    return _raw_json(await hub.gateway.call_json(ctx, model, payload))


def _upload(upload: Any, field: str, index: int) -> InputImage:
    data = upload.read()
    if not data:
        raise bad_request(f"{field} file {index + 1} is empty", param=field)
    return image_from_bytes(data, upload.mimetype, upload.filename, field, index)


@bp.get("/models")
async def models() -> Response:
    hub = current_hub()
    await hub.gateway.authenticate(request)
    await hub.gateway.billing.refresh()
    billing = hub.gateway.billing
    entries = await hub.catalog.list_models()
    created = int(time.time())
    data = [
        {"id": e["id"], "object": "model", "created": created, "owned_by": e["provider"]}
        for e in entries
        if billing.offers(e["provider"], e["model"], e["type"])
    ]
    return json_response({"object": "list", "data": data})
