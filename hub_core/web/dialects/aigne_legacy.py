"""The older AIGNE chat format (``POST /api/v2/chat/completions`` and ``/api/v2/completions``): camelCase
requests, and three ways to answer: SSE chunks when the client accepts ``text/event-stream`` (ending with an
``event: server-timing``), plain text deltas for ``stream: true``, otherwise one JSON object."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub_core.errors import HubError, bad_request
from hub_core.web.dialects.aigne import (
    DEFAULT_CHAT_MODEL,
    need_object,
    opt_number,
    response_format_in,
    tool_choice_in,
    tools_in,
)
from hub_core.web.dialects.aigne_output import ChatOutput, sse

if TYPE_CHECKING:
    from hub_core.pipeline.gateway import CallContext
    from hub_core.providers.base import Chunk

LEGACY_ROLES = ("system", "user", "assistant", "tool")
#: camelCase option -> (standard key, lowest, highest)
RANGES = {
    "temperature": ("temperature", 0, 2),
    "topP": ("top_p", 0, 1),
    "presencePenalty": ("presence_penalty", -2, 2),
    "frequencyPenalty": ("frequency_penalty", -2, 2),
}


@dataclass(slots=True)
class LegacyCall:
    model: str
    payload: dict[str, Any]
    stream: bool


def parse_completions(body: dict[str, Any]) -> LegacyCall:
    model = body.get("model") or DEFAULT_CHAT_MODEL
    if not isinstance(model, str):
        raise bad_request("model must be a string such as 'openai/gpt-4o-mini'", param="model")
    has_messages, has_prompt = body.get("messages") is not None, body.get("prompt") is not None
    if has_messages == has_prompt:
        raise bad_request("Send either messages or prompt (exactly one of them)", param="messages")
    if has_prompt:
        if not isinstance(body["prompt"], str) or not body["prompt"]:
            raise bad_request("prompt must be a non-empty string", param="prompt")
        messages = [{"role": "user", "content": body["prompt"]}]
    else:
        messages = _messages(body["messages"])
    payload: dict[str, Any] = {"model": model, "messages": messages}
    for key, (target, low, high) in RANGES.items():
        value = opt_number(body, key, "body")
        if value is not None:
            if not low <= value <= high:
                raise bad_request(f"{key} must be between {low} and {high}", param=key)
            payload[target] = value
    max_tokens = opt_number(body, "maxTokens", "body")
    if max_tokens is not None:
        payload["max_tokens"] = int(max_tokens)
    tools = tools_in(body.get("tools"), "tools")
    if tools:
        payload["tools"] = tools
    if body.get("toolChoice") is not None:
        payload["tool_choice"] = tool_choice_in(body["toolChoice"], "toolChoice")
    fmt = body.get("responseFormat")
    if (
        isinstance(fmt, dict)
        and isinstance(fmt.get("jsonSchema"), dict)
        and "schema" not in fmt["jsonSchema"]
    ):
        fmt = {**fmt, "jsonSchema": {"name": "output", "schema": fmt["jsonSchema"]}}
    response_format = response_format_in(fmt, "responseFormat")
    if response_format is not None:
        payload["response_format"] = response_format
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise bad_request("stream must be a boolean", param="stream")
    return LegacyCall(model.strip(), payload, stream)


def _messages(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise bad_request("messages must be a non-empty array", param="messages")
    out = []
    for i, msg in enumerate(raw):
        where = f"messages[{i}]"
        msg = need_object(msg, where)
        role = msg.get("role")
        if role not in LEGACY_ROLES:
            raise bad_request(f"{where}.role must be one of {', '.join(LEGACY_ROLES)}", param=f"{where}.role")
        item: dict[str, Any] = {"role": role, "content": _content(msg.get("content"), where)}
        if isinstance(msg.get("name"), str):
            item["name"] = msg["name"]
        if role == "assistant" and msg.get("toolCalls"):
            item["tool_calls"] = _tool_calls(msg["toolCalls"], where)
        if role == "tool":
            if not isinstance(msg.get("toolCallId"), str):
                raise bad_request(f"{where}.toolCallId is required for tool messages", param=where)
            item["tool_call_id"] = msg["toolCallId"]
        out.append(item)
    return out


def _content(content: Any, where: str) -> Any:
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad_request(f"{where}.content must be a string or an array", param=f"{where}.content")
    parts = []
    for j, part in enumerate(content):
        part = need_object(part, f"{where}.content[{j}]")
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "image_url":
            image = part.get("imageUrl") or part.get("image_url") or {}
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                raise bad_request(f"{where}.content[{j}].imageUrl.url is required", param=where)
            parts.append({"type": "image_url", "image_url": {"url": image["url"]}})
        else:
            raise bad_request(f"{where}.content[{j}] must be a text or image_url part", param=where)
    return parts


def _tool_calls(raw: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad_request(f"{where}.toolCalls must be an array", param=where)
    out = []
    for call in raw:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise bad_request(f"{where}.toolCalls entries need function.name", param=where)
        args = fn.get("arguments", "")
        args = args if isinstance(args, str) else json.dumps(args)
        out.append(
            {
                "id": str(call.get("id", "")),
                "type": "function",
                "function": {"name": fn["name"], "arguments": args},
            }
        )
    return out


def legacy_tool_calls(out: ChatOutput) -> list[dict[str, Any]]:
    """Tool calls as the old format has them: arguments stay a JSON string."""
    return [
        {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["args"]}}
        for _, c in sorted(out.calls.items())
    ]


def legacy_json(out: ChatOutput) -> dict[str, Any]:
    text = "".join(out.text)
    answer: dict[str, Any] = {"role": "assistant", "text": text, "content": text}
    if out.calls:
        answer["toolCalls"] = legacy_tool_calls(out)
    return answer


class LegacySSE:
    """``data: {"delta": {...}}`` chunks, a usage chunk, then ``event: server-timing``; never ``[DONE]``."""

    def __init__(self, ctx: CallContext) -> None:
        self.ctx = ctx
        self.out = ChatOutput(json_mode=False)

    def chunks(self, chunks: list[Chunk]) -> bytes:
        parts = []
        for chunk in chunks:
            calls_before = sum(len(c["args"]) + len(c["name"]) for c in self.out.calls.values())
            text, _thoughts = self.out.add_chunk(chunk.data)
            delta: dict[str, Any] = {"role": "assistant"}
            if text:
                delta["content"] = text
            if sum(len(c["args"]) + len(c["name"]) for c in self.out.calls.values()) != calls_before:
                delta["toolCalls"] = legacy_tool_calls(self.out)  # re-sent whole, as the old hub did
            if len(delta) > 1:
                parts.append(sse({"delta": delta}))
        return b"".join(parts)

    def end(self) -> bytes:
        usage = self.ctx.record.usage
        totals = {
            "promptTokens": usage.input_tokens,
            "completionTokens": usage.output_tokens,
            "totalTokens": usage.total_tokens,
        }
        return sse({"usage": totals}) + self.timing()

    def error(self, err: HubError) -> bytes:
        return sse({"error": {"message": err.message, "type": err.type}}) + self.timing()

    def timing(self) -> bytes:
        ttfb = self.ctx.record.ttfb_ms
        parts = [f"ttfb;dur={ttfb:.1f}"] if ttfb is not None else []
        parts.append(f"total;dur={self.ctx.elapsed_ms():.1f}")
        return b"event: server-timing\ndata: " + ", ".join(parts).encode() + b"\n\n"


class LegacyText:
    """``stream: true`` without SSE: the content deltas as plain text; a failure appends ``ERROR: <msg>``."""

    def __init__(self) -> None:
        self.out = ChatOutput(json_mode=False)

    def chunks(self, chunks: list[Chunk]) -> bytes:
        return "".join(self.out.add_chunk(chunk.data)[0] for chunk in chunks).encode()

    def end(self) -> bytes:
        return b""

    def error(self, err: HubError) -> bytes:
        return f"\nERROR: {err.message}".encode()
