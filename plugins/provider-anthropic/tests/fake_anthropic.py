"""A local fake of Anthropic's Messages API on a real socket, for the provider's tests and the hub's
``/v1/messages`` tests.

It speaks the real wire format: ``POST /v1/messages`` as JSON or as named SSE events (message_start,
content_block_start/delta/stop with text, input_json, thinking and signature deltas, ping, message_delta with
cumulative usage, message_stop), ``POST /v1/messages/count_tokens``, ``GET /v1/models`` and Anthropic's error
bodies. It checks the request shape the way the real API does (x-api-key, anthropic-version, max_tokens,
roles, tool_use/tool_result pairing, thinking rules, unknown fields) and simulates prompt caching: a prefix
marked with ``cache_control`` is written on first sight and read afterwards. Failures on command: model names
``fail-429``, ``fail-500``, ``fail-401``, ``fail-403``, ``fail-529``, ``missing-model``, ``malformed``,
``stream-error``, ``stream-cut``, ``slow-<seconds>``, ``usage-details`` (fixed cache and thinking usage), or
one-shot failures with `FakeAnthropic.fail_next`. Replies follow the conformance suite's scenario contract.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from hub_core.testing import Failure, FakeUpstream, reply_text

MESSAGE_FIELDS = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
        "service_tier",
        "output_config",
        "container",
        "mcp_servers",
        "context_management",
        "cache_control",
    }
)
COUNT_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers", "output_config"}
)
USER_BLOCKS = frozenset({"text", "image", "document", "tool_result", "search_result"})
ASSISTANT_BLOCKS = frozenset({"text", "tool_use", "thinking", "redacted_thinking", "server_tool_use"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1", "claude-3-5-haiku-latest")
USAGE_DETAILS = "usage-details"
#: the conformance suite's usage-details answer: 100 prompt tokens (50 fresh, 40 read, 10 written), 50 output
#: tokens of which 20 thinking
DETAIL_USAGE = {
    "input_tokens": 50,
    "cache_read_input_tokens": 40,
    "cache_creation_input_tokens": 10,
    "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 50,
    "output_tokens_details": {"thinking_tokens": 20},
}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class Invalid(Exception):
    """A request the real API would refuse with 400 invalid_request_error."""


def _dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def error_response(
    status: int, message: str, etype: str | None = None, headers: dict[str, str] | None = None
):
    request_id = f"req_fake{uuid.uuid4().hex[:16]}"
    body = {
        "type": "error",
        "error": {"type": etype or ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": request_id,
    }
    return web.json_response(body, status=status, headers={"request-id": request_id, **(headers or {})})


def _tokens(obj: Any) -> int:
    """A stable, roughly word-sized token count (enough to check arithmetic end to end)."""
    text = obj if isinstance(obj, str) else _dump(obj)
    return max(1, len(text.split()))


class FakeAnthropic(FakeUpstream):
    """``async with FakeAnthropic() as fake: fake.base_url`` → ``http://127.0.0.1:<port>/v1``."""

    base_path = "/v1"
    max_body = 32 << 20

    def __init__(self, api_key: str | None = "sk-ant-fake-key", chunk_delay: float = 0.0) -> None:
        super().__init__()
        self.api_key = api_key
        self.chunk_delay = chunk_delay
        self.requests: list[dict[str, Any]] = []
        self.cached_prefixes: set[str] = set()

    def fail_next(
        self,
        status: int,
        message: str = "fake failure",
        etype: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self.failures.extend(Failure(status, message, headers or {}, etype=etype) for _ in range(times))

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self.messages)
        app.router.add_post("/v1/messages/count_tokens", self.count_tokens)
        app.router.add_get("/v1/models", self.models)

    # --- admission: headers, failures on command, request shape ----------------------------------------

    def _auth_error(self, request: web.Request) -> web.Response | None:
        if self.api_key is not None and request.headers.get("x-api-key") != self.api_key:
            return error_response(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return error_response(400, "anthropic-version: header is required")
        return None

    async def _admit(
        self, request: web.Request, count_only: bool
    ) -> tuple[dict[str, Any] | None, web.Response | None]:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        failed = self._auth_error(request)
        if failed is not None:
            return None, failed
        if not request.content_type.startswith("application/json") or not isinstance(body, dict):
            return None, error_response(
                400, "There was an issue with the format of your request: invalid JSON"
            )
        f = self.pop_failure()
        if f is not None:
            return None, error_response(f.status, f.message, f.etype, f.headers)
        model = body.get("model")
        if isinstance(model, str):
            failed = await self._model_failure(model)
            if failed is not None:
                return None, failed
        try:
            validate(body, count_only)
        except Invalid as exc:
            return None, error_response(400, str(exc))
        return body, None

    async def _model_failure(self, model: str) -> web.Response | None:
        if model == "fail-429":
            headers = {"retry-after": "7", "anthropic-ratelimit-requests-remaining": "0"}
            return error_response(
                429, "Number of request tokens has exceeded your per-minute rate limit", headers=headers
            )
        if model == "fail-500":
            return error_response(500, "Internal server error")
        if model == "fail-401":
            return error_response(401, "invalid x-api-key")
        if model == "fail-403":
            return error_response(403, "Your API key does not have permission to use the specified resource.")
        if model == "fail-529":
            return error_response(529, "Overloaded")
        if model == "missing-model":
            return error_response(404, f"model: {model}")
        if model.startswith("slow-"):
            await asyncio.sleep(float(model.split("-", 1)[1]))
        if model == "malformed":
            return web.Response(body=b'{"id": "msg_broken", "type": "mess', content_type="application/json")
        return None

    # --- endpoints ---------------------------------------------------------------------------------------

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body, failed = await self._admit(request, count_only=False)
        if failed is not None:
            return failed
        assert body is not None
        blocks, stop_reason, stop_sequence = plan_reply(body)
        usage = self._input_usage(body)
        output = sum(_block_tokens(b) for b in blocks)
        usage["output_tokens"] = output
        thinking = sum(_block_tokens(b) for b in blocks if b["type"] == "thinking")
        if thinking:
            usage["output_tokens_details"] = {"thinking_tokens": thinking}
        if body["model"] == USAGE_DETAILS:
            usage.update(DETAIL_USAGE)
        message = {
            "id": f"msg_fake{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }
        if not body.get("stream"):
            return web.json_response(message, headers={"request-id": f"req_fake{uuid.uuid4().hex[:16]}"})
        return await self._stream(request, message)

    async def count_tokens(self, request: web.Request) -> web.Response:
        body, failed = await self._admit(request, count_only=True)
        if failed is not None:
            return failed
        assert body is not None
        return web.json_response({"input_tokens": sum(t for t, _ in _segments(body))})

    async def models(self, request: web.Request) -> web.Response:
        failed = self._auth_error(request)
        if failed is not None:
            return failed
        data = [
            {
                "type": "model",
                "id": m,
                "display_name": m.replace("-", " ").title(),
                "created_at": "2025-10-01T00:00:00Z",
            }
            for m in MODELS
        ]
        return web.json_response(
            {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}
        )

    # --- usage with prompt caching -------------------------------------------------------------------------

    def _input_usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """Input usage as Anthropic reports it: ``input_tokens`` excludes cache reads and writes.

        Each ``cache_control`` breakpoint names a prefix (tools → system → messages). The longest prefix seen
        before is read from the cache; the rest up to the last breakpoint is written."""
        segments = _segments(body)
        total = sum(t for t, _ in segments)
        read = write = 0
        ttl = "5m"
        running, digest = 0, hashlib.sha256()
        breakpoints: list[tuple[int, str, str]] = []
        for tokens, seg in segments:
            running += tokens
            digest.update(_dump(seg).encode())
            control = seg.get("cache_control") if isinstance(seg, dict) else None
            if isinstance(control, dict):
                breakpoints.append((running, digest.copy().hexdigest(), str(control.get("ttl") or "5m")))
        for upto, key, _ in breakpoints:
            if key in self.cached_prefixes:
                read = upto
        if breakpoints and breakpoints[-1][0] > read:
            write, ttl = breakpoints[-1][0] - read, breakpoints[-1][2]
        self.cached_prefixes.update(key for _, key, _ in breakpoints)
        return {
            "input_tokens": total - read - write,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": write if ttl == "5m" else 0,
                "ephemeral_1h_input_tokens": write if ttl == "1h" else 0,
            },
            "output_tokens": 0,
            "service_tier": "standard",
        }

    # --- streaming -----------------------------------------------------------------------------------------

    async def _stream(self, request: web.Request, message: dict[str, Any]) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "request-id": f"req_fake{uuid.uuid4().hex[:16]}",
            }
        )
        await resp.prepare(request)
        model = message["model"]
        usage = message["usage"]

        async def send(event: str, data: dict[str, Any]) -> None:
            await resp.write(f"event: {event}\ndata: {_dump(data)}\n\n".encode())
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)

        try:
            start_usage = {k: v for k, v in usage.items() if k != "output_tokens_details"} | {
                "output_tokens": 1
            }
            start = {
                **message,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            }
            await send("message_start", {"type": "message_start", "message": start})
            for index, block in enumerate(message["content"]):
                await send(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": _empty(block)},
                )
                if index == 0:
                    await send("ping", {"type": "ping"})
                for n, delta in enumerate(_deltas(block)):
                    if model == "stream-error" and n == 2:
                        message = "Overloaded (mid-stream)"
                        err = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
                        await send("error", err)
                        return resp
                    if model == "stream-cut" and n == 2:
                        return resp
                    await send(
                        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
                    )
                await send("content_block_stop", {"type": "content_block_stop", "index": index})
            final_usage = {
                k: usage[k]
                for k in (
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                    "output_tokens",
                )
            }
            if "output_tokens_details" in usage:
                final_usage["output_tokens_details"] = usage["output_tokens_details"]
            delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
            await send("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage})
            await send("message_stop", {"type": "message_stop"})
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise
        return resp


# --- request validation, as the real API answers ----------------------------------------------------------


def validate(body: dict[str, Any], count_only: bool) -> None:
    allowed = COUNT_FIELDS if count_only else MESSAGE_FIELDS
    for key in body:
        if key not in allowed:
            raise Invalid(f"{key}: Extra inputs are not permitted")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise Invalid("model: Field required")
    if not count_only:
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise Invalid("max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise Invalid("max_tokens: Input should be a valid integer greater than or equal to 1")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Invalid(
            "messages: Field required" if messages is None else "messages: at least one message is required"
        )
    _validate_system(body.get("system"))
    tool_names = _validate_tools(body.get("tools"))
    _validate_tool_choice(body.get("tool_choice"), tool_names)
    _validate_messages(messages)
    _validate_sampling(body, count_only)
    controls = sum(1 for _, seg in _segments(body) if isinstance(seg, dict) and seg.get("cache_control"))
    if controls > 4:
        raise Invalid(f"A maximum of 4 blocks with cache_control may be provided. Found {controls}.")


def _validate_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise Invalid("system: Input should be a valid string or list")
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise Invalid(f"system.{i}.type: Input should be 'text'")
        _validate_text(block, f"system.{i}")


def _validate_tools(tools: Any) -> set[str]:
    if tools is None:
        return set()
    if not isinstance(tools, list):
        raise Invalid("tools: Input should be a valid list")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not TOOL_NAME.match(str(tool.get("name", ""))):
            raise Invalid(f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise Invalid(f"tools.{i}.custom.input_schema.type: Input should be 'object'")
        if tool["name"] in names:
            raise Invalid("tools: Tool names must be unique.")
        extra = set(tool) - {"name", "description", "input_schema", "cache_control", "type", "strict"}
        if extra:
            raise Invalid(f"tools.{i}.custom.{sorted(extra)[0]}: Extra inputs are not permitted")
        _validate_cache(tool, f"tools.{i}")
        names.add(tool["name"])
    return names


def _validate_tool_choice(choice: Any, tools: set[str]) -> None:
    if choice is None:
        return
    if not tools:
        raise Invalid("tool_choice may only be specified while providing tools.")
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise Invalid(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
        )
    if choice["type"] == "tool" and choice.get("name") not in tools:
        raise Invalid(f"tool_choice.tool.name: tool {choice.get('name')!r} not found in tools")


def _validate_messages(messages: list[Any]) -> None:
    pending: set[str] = set()  # tool_use ids of the previous assistant turn still awaiting a result
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise Invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = msg.get("content")
        if isinstance(content, str):
            blocks: list[Any] = [{"type": "text", "text": content}]
        elif isinstance(content, list):
            blocks = content
        else:
            raise Invalid(f"messages.{i}.content: Input should be a valid string or list")
        if not blocks:
            raise Invalid(f"messages.{i}: all messages must have non-empty content")
        allowed = USER_BLOCKS if msg["role"] == "user" else ASSISTANT_BLOCKS
        results = []
        seen_other = False
        for j, block in enumerate(blocks):
            where = f"messages.{i}.content.{j}"
            if not isinstance(block, dict) or block.get("type") not in allowed:
                kind = block.get("type") if isinstance(block, dict) else type(block).__name__
                raise Invalid(f"{where}.type: unexpected block type {kind!r} in a {msg['role']} message")
            _validate_block(block, where)
            if block["type"] == "tool_result":
                if seen_other:
                    raise Invalid(f"{where}: tool_result blocks must come first in the user message")
                results.append(block["tool_use_id"])
            else:
                seen_other = True
        if msg["role"] == "user":
            unknown = [r for r in results if r not in pending]
            if unknown:
                raise Invalid(
                    f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{unknown[0]}. Each `tool_result` block must have a corresponding `tool_use` block in "
                    "the previous message."
                )
            missing = pending - set(results)
            if missing:
                raise Invalid(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {sorted(missing)[0]}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )
            pending = set()
        else:
            if pending:
                raise Invalid(f"messages.{i}: tool_use blocks must be followed by tool_result blocks")
            pending = {b["id"] for b in blocks if b.get("type") == "tool_use"}


def _validate_block(block: dict[str, Any], where: str) -> None:
    kind = block["type"]
    _validate_cache(block, where)
    if kind == "text":
        _validate_text(block, where)
    elif kind == "image":
        _validate_image(block.get("source"), where)
    elif kind == "document":
        source = block.get("source") or {}
        if source.get("type") == "base64" and source.get("media_type") != "application/pdf":
            raise Invalid(f"{where}.source.media_type: Input should be 'application/pdf'")
        if source.get("type") not in ("base64", "text", "url", "content", "file"):
            raise Invalid(f"{where}.source: unknown document source")
    elif kind == "tool_use":
        if not block.get("id") or not block.get("name") or not isinstance(block.get("input"), dict):
            raise Invalid(f"{where}: tool_use blocks need id, name and an object input")
    elif kind == "tool_result":
        if not block.get("tool_use_id"):
            raise Invalid(f"{where}.tool_use_id: Field required")
        content = block.get("content")
        if isinstance(content, list):
            for k, sub in enumerate(content):
                if not isinstance(sub, dict) or sub.get("type") not in (
                    "text",
                    "image",
                    "document",
                    "search_result",
                ):
                    raise Invalid(f"{where}.content.{k}.type: unexpected block type in tool_result")
                _validate_block(sub, f"{where}.content.{k}")
        elif content is not None and not isinstance(content, str):
            raise Invalid(f"{where}.content: Input should be a valid string or list")
    elif kind == "thinking" and not (
        isinstance(block.get("signature"), str) and isinstance(block.get("thinking"), str)
    ):
        raise Invalid(f"{where}.signature: Field required")


def _validate_text(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("text"), str):
        raise Invalid(f"{where}.text: Field required")
    if not block["text"]:
        raise Invalid("messages: text content blocks must be non-empty")


def _validate_image(source: Any, where: str) -> None:
    if not isinstance(source, dict):
        raise Invalid(f"{where}.source: Field required")
    if source.get("type") == "base64":
        if source.get("media_type") not in IMAGE_TYPES:
            raise Invalid(
                f"{where}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', "
                "'image/gif' or 'image/webp'"
            )
        try:
            base64.b64decode(str(source.get("data", "")), validate=True)
        except binascii.Error as exc:
            raise Invalid(f"{where}.source.base64.data: invalid base64 data") from exc
    elif source.get("type") == "url":
        if not str(source.get("url", "")).startswith(("http://", "https://")):
            raise Invalid(f"{where}.source.url.url: invalid URL")
    else:
        raise Invalid(
            f"{where}.source: Input tag does not match any of the expected tags: 'base64', 'url', 'file'"
        )


def _validate_cache(block: dict[str, Any], where: str) -> None:
    control = block.get("cache_control")
    if control is None:
        return
    if (
        not isinstance(control, dict)
        or control.get("type") != "ephemeral"
        or control.get("ttl", "5m") not in ("5m", "1h")
    ):
        raise Invalid(f"{where}.cache_control: Input should be {{'type': 'ephemeral', 'ttl': '5m' | '1h'}}")


def _validate_sampling(body: dict[str, Any], count_only: bool) -> None:
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= temperature <= 1:
        raise Invalid("temperature: Input should be less than or equal to 1")
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise Invalid("stop_sequences: Input should be a valid list of strings")
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict) or set(metadata) - {"user_id"}):
        raise Invalid("metadata: only user_id is permitted")
    thinking = body.get("thinking")
    if thinking is None or thinking.get("type") == "disabled":
        return
    if thinking.get("type") not in ("enabled", "adaptive"):
        raise Invalid(
            "thinking: Input tag does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'"
        )
    budget = thinking.get("budget_tokens")
    if thinking["type"] == "enabled" and (not isinstance(budget, int) or budget < 1024):
        raise Invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if not count_only and isinstance(budget, int) and budget >= body["max_tokens"]:
        raise Invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")
    if temperature is not None and temperature != 1:
        raise Invalid("`temperature` may only be set to 1 when thinking is enabled.")
    if body.get("top_k") is not None:
        raise Invalid("`top_k` must be unset when thinking is enabled.")
    if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
        raise Invalid("Thinking may not be enabled when tool_choice forces tool use.")


# --- what the fake model answers ------------------------------------------------------------------------


def _segments(body: dict[str, Any]) -> list[tuple[int, Any]]:
    """The prompt in cache order (tools, system, message blocks) with a token count per segment."""
    out: list[tuple[int, Any]] = [(_tokens(t), t) for t in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str):
        out.append((_tokens(system), {"type": "text", "text": system}))
    else:
        out.extend((_tokens(b.get("text", "")), b) for b in system or [])
    for msg in body.get("messages") or []:
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        for block in blocks:
            tokens = 1600 if block.get("type") in ("image", "document") else _tokens(block)
            out.append((tokens + 1, block))
    return out


def _block_tokens(block: dict[str, Any]) -> int:
    if block["type"] == "text":
        return _tokens(block["text"])
    if block["type"] == "thinking":
        return _tokens(block["thinking"])
    return _tokens(block.get("input", {}))


def _last_user(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The last user message's text and its blocks."""
    for msg in reversed(body["messages"]):
        if msg["role"] != "user":
            continue
        content = msg["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        return " ".join(b.get("text", "") for b in blocks if b.get("type") == "text"), blocks
    return "", []


def _image_mime(block: dict[str, Any]) -> str:
    source = block.get("source") or {}
    return str(source.get("media_type") or "image/url")


def _tool_result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return " ".join(b.get("text", "") for b in content if b.get("type") == "text")
    return str(content or "")


def _fill(schema: dict[str, Any], echo: str) -> dict[str, Any]:
    """Arguments for a tool call that satisfy the tool's schema."""
    out: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type") if isinstance(prop, dict) else "string"
        if kind in ("number", "integer"):
            out[name] = 42
        elif kind == "boolean":
            out[name] = True
        elif kind == "array":
            out[name] = []
        elif kind == "object":
            out[name] = {}
        else:
            out[name] = "Paris" if name in ("city", "location") else echo
    return out


def _system_text(body: dict[str, Any]) -> str | None:
    system = body.get("system")
    if isinstance(system, list):
        system = system[0].get("text") if system else None
    return system or None


def plan_reply(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, str | None]:
    """The content blocks, stop_reason and stop_sequence of the fake answer.

    The text follows the scenario contract of `hub_core.testing.fake_server.reply_text` (``Echo: ...`` with
    `` [image:<mime>]`` per image and ``(system: ...)``, or ``Tool result: ...``), plus
    `` [document:<mime>]`` per document."""
    text, blocks = _last_user(body)
    results = [b for b in blocks if b.get("type") == "tool_result"]
    images = [_image_mime(b) for b in blocks if b.get("type") == "image"]
    tool_text = "; ".join(_tool_result_text(b) for b in results) if results else None
    echo = reply_text(text, images, _system_text(body), tool_text)
    if not results:
        for block in blocks:
            if block.get("type") == "document":
                echo += f" [document:{(block.get('source') or {}).get('media_type', 'text/plain')}]"
    out: list[dict[str, Any]] = []
    thinking = body.get("thinking") or {}
    if thinking.get("type") in ("enabled", "adaptive"):
        thought = f"The user wrote {text!r}; I will echo it."
        out.append(
            {
                "type": "thinking",
                "thinking": thought,
                "signature": "sig_" + hashlib.sha256(thought.encode()).hexdigest(),
            }
        )
    tools = body.get("tools") or []
    choice = body.get("tool_choice") or {"type": "auto"}
    if tools and choice["type"] != "none" and not results:
        tool = next((t for t in tools if t["name"] == choice.get("name")), tools[0])
        if choice["type"] == "auto":
            out.append({"type": "text", "text": "Let me check."})
        call = {"type": "tool_use", "id": f"toolu_fake{uuid.uuid4().hex[:16]}", "name": tool["name"]}
        out.append(call | {"input": _fill(tool["input_schema"], echo)})
        return out, "tool_use", None
    words = echo.split(" ")
    stop_reason, stop_sequence = "end_turn", None
    for stop in body.get("stop_sequences") or []:
        if stop in echo:
            echo, stop_reason, stop_sequence = echo.split(stop, 1)[0], "stop_sequence", stop
            words = echo.split(" ")
            break
    limit = body.get("max_tokens", 1 << 30) - sum(_block_tokens(b) for b in out)
    if len(words) > limit:
        words, stop_reason, stop_sequence = words[: max(limit, 0)], "max_tokens", None
    out.append({"type": "text", "text": " ".join(words)})
    return out, stop_reason, stop_sequence


def _empty(block: dict[str, Any]) -> dict[str, Any]:
    """The block as content_block_start announces it, before any delta."""
    if block["type"] == "text":
        return {"type": "text", "text": ""}
    if block["type"] == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}


def _deltas(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block["type"] == "text":
        words = block["text"].split(" ")
        return [{"type": "text_delta", "text": w if i == 0 else " " + w} for i, w in enumerate(words)]
    if block["type"] == "thinking":
        words = block["thinking"].split(" ")
        out = [{"type": "thinking_delta", "thinking": w if i == 0 else " " + w} for i, w in enumerate(words)]
        return [*out, {"type": "signature_delta", "signature": block["signature"]}]
    raw = _dump(block["input"])
    third = max(1, len(raw) // 3)
    pieces = ["", raw[:third], raw[third : 2 * third], raw[2 * third :]]
    return [{"type": "input_json_delta", "partial_json": p} for i, p in enumerate(pieces) if p or i == 0]


@contextlib.contextmanager
def fake_in_thread(**kwargs: Any) -> Iterator[FakeAnthropic]:
    """The fake in its own thread and event loop, for sync tests (the hub runs in another thread)."""
    with FakeAnthropic(**kwargs).in_thread() as fake:
        yield fake


async def main(port: int) -> None:
    fake = await FakeAnthropic(api_key=None).start(port)
    print(f"fake Anthropic on {fake.base_url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import sys

    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8098))
