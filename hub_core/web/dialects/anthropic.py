"""Anthropic's Messages format (``POST /v1/messages``) both ways: Messages requests to standard chat
requests, and standard answers (a ``chat.completion`` or its chunks) to a Message or Anthropic's SSE events.

Fields OpenAI's format has no place for (``cache_control``, thinking blocks with their signatures, ``top_k``,
images and ``is_error`` in tool results, ``anthropic-beta``) travel as *standard extensions*, and only to
providers that declare they read them (``Provider.standard_extensions``); other providers get plain OpenAI.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from hub_core.errors import HubError, bad_request
from hub_core.types import Usage

if TYPE_CHECKING:
    from hub_core.pipeline.gateway import UpstreamStream
    from hub_core.providers.base import Chunk

#: every extension this dialect can send (see the module docstring and docs/anthropic-api.md)
EXTENSIONS = frozenset({"cache_control", "thinking", "top_k", "tool_result_blocks", "anthropic_beta"})
USER_BLOCKS = ("text", "image", "document", "tool_result")
ASSISTANT_BLOCKS = ("text", "tool_use", "thinking", "redacted_thinking")
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
}


# --- request: Anthropic → standard ---------------------------------------------------------------------


def validate(body: dict[str, Any], *, count_only: bool = False) -> str:
    """Check what every translation relies on, answering as Anthropic words it; returns the model."""
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request("model: Field required", param="model")
    if not count_only:
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise bad_request("max_tokens: Field required", param="max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise bad_request("max_tokens: Input should be an integer of at least 1", param="max_tokens")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise bad_request("stream: Input should be a valid boolean", param="stream")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: Input should be a non-empty list", param="messages")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise bad_request(f"messages.{i}.role: Input should be 'user' or 'assistant'", param="messages")
        content = msg.get("content")
        if not isinstance(content, (str, list)):
            raise bad_request(f"messages.{i}.content: Input should be a string or a list", param="messages")
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise bad_request("system: Input should be a string or a list of text blocks", param="system")
    if body.get("tools") is not None and not isinstance(body["tools"], list):
        raise bad_request("tools: Input should be a valid list", param="tools")
    for key in ("metadata", "output_config"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise bad_request(f"{key}: Input should be a valid dictionary", param=key)
    stops = body.get("stop_sequences")
    if stops is not None and not (isinstance(stops, list) and all(isinstance(x, str) for x in stops)):
        raise bad_request("stop_sequences: Input should be a valid list of strings", param="stop_sequences")
    if body.get("mcp_servers"):
        raise bad_request(
            "mcp_servers: MCP connectors are not supported through this hub", param="mcp_servers"
        )
    return model.strip()


def standard_request(
    body: dict[str, Any], extensions: frozenset[str], *, beta: str | None = None, count_only: bool = False
) -> dict[str, Any]:
    """A validated Messages request as a standard chat request; extensions limited to `extensions`."""
    out: dict[str, Any] = {"model": body["model"].strip(), "messages": []}
    system = _system_message(body.get("system"), extensions)
    if system is not None:
        out["messages"].append(system)
    for i, msg in enumerate(body["messages"]):
        convert = _user_messages if msg["role"] == "user" else _assistant_messages
        out["messages"].extend(convert(msg["content"], i, extensions))
    if not count_only:
        out["max_completion_tokens"] = body["max_tokens"]
        for key in ("temperature", "top_p"):
            if body.get(key) is not None:
                out[key] = body[key]
        if body.get("stop_sequences"):
            out["stop"] = list(body["stop_sequences"])
        if body.get("top_k") is not None and "top_k" in extensions:
            out["top_k"] = body["top_k"]
        user_id = (body.get("metadata") or {}).get("user_id")
        if isinstance(user_id, str) and user_id:
            out["user"] = user_id
        if body.get("stream"):
            out["stream"] = True
            out["stream_options"] = {"include_usage": True}
        fmt = (body.get("output_config") or {}).get("format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            out["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": fmt.get("schema") or {}, "strict": True},
            }
    _tools(body, out, extensions)
    if isinstance(body.get("thinking"), dict) and "thinking" in extensions:
        out["thinking"] = body["thinking"]
    if beta and "anthropic_beta" in extensions:
        out["anthropic_beta"] = [b.strip() for b in beta.split(",") if b.strip()]
    return out


def _system_message(system: Any, extensions: frozenset[str]) -> dict[str, Any] | None:
    if not system:
        return None
    if isinstance(system, str):
        return {"role": "system", "content": system}
    parts = []
    for i, block in enumerate(system):
        if (
            not isinstance(block, dict)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            raise bad_request(f"system.{i}: Input should be a text block", param="system")
        parts.append(_with_cache({"type": "text", "text": block["text"]}, block, extensions))
    return {"role": "system", "content": parts}


def _with_cache(part: dict[str, Any], block: dict[str, Any], extensions: frozenset[str]) -> dict[str, Any]:
    if isinstance(block.get("cache_control"), dict) and "cache_control" in extensions:
        part["cache_control"] = block["cache_control"]
    return part


def _blocks(content: Any, i: int, allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    for j, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") not in allowed:
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            raise bad_request(
                f"messages.{i}.content.{j}: block type {kind!r} is not supported through this hub",
                param="messages",
            )
    return blocks


def _user_messages(content: Any, i: int, extensions: frozenset[str]) -> list[dict[str, Any]]:
    """One user turn → tool messages (its tool results, first, as OpenAI wants) and a user message."""
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(_blocks(content, i, USER_BLOCKS)):
        where = f"messages.{i}.content.{j}"
        if block["type"] == "tool_result":
            out.append(_tool_message(block, where, extensions))
        else:
            parts.append(_part(block, where, extensions))
    if parts:
        out.append({"role": "user", "content": parts})
    return out


def _part(block: dict[str, Any], where: str, extensions: frozenset[str]) -> dict[str, Any]:
    kind = block["type"]
    part: dict[str, Any]
    if kind == "text":
        part = {"type": "text", "text": str(block.get("text", ""))}
    elif kind == "image":
        part = {"type": "image_url", "image_url": {"url": _image_url(block.get("source"), where)}}
    else:
        part = _document_part(block, where)
    return _with_cache(part, block, extensions)


def _image_url(source: Any, where: str) -> str:
    if isinstance(source, dict) and source.get("type") == "base64":
        return f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    if isinstance(source, dict) and source.get("type") == "url" and source.get("url"):
        return str(source["url"])
    raise bad_request(f"{where}.source: only base64 and url image sources are supported", param="messages")


def _document_part(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source") if isinstance(block.get("source"), dict) else {}
    if source.get("type") == "base64":
        file: dict[str, Any] = {
            "file_data": f"data:{source.get('media_type', 'application/pdf')};base64,{source.get('data', '')}"
        }
        if block.get("title"):
            file["filename"] = str(block["title"])
        return {"type": "file", "file": file}
    if source.get("type") == "text":
        return {"type": "text", "text": str(source.get("data", ""))}
    raise bad_request(f"{where}.source: only base64 and text documents are supported", param="messages")


def _tool_message(block: dict[str, Any], where: str, extensions: frozenset[str]) -> dict[str, Any]:
    if not block.get("tool_use_id"):
        raise bad_request(f"{where}.tool_use_id: Field required", param="messages")
    content = block.get("content")
    rich = "tool_result_blocks" in extensions
    msg: dict[str, Any] = {"role": "tool", "tool_call_id": str(block["tool_use_id"])}
    if isinstance(content, list):
        parts = [
            _part(b, f"{where}.content.{k}", extensions)
            for k, b in enumerate(_blocks(content, 0, ("text", "image")))
        ]
        msg["content"] = parts if rich else "".join(p.get("text", "") for p in parts if p["type"] == "text")
    else:
        msg["content"] = "" if content is None else str(content)
    if block.get("is_error"):
        if rich:
            msg["is_error"] = True
        elif isinstance(msg["content"], str):
            msg["content"] = f"Error: {msg['content']}"
    if isinstance(block.get("cache_control"), dict) and "cache_control" in extensions:
        msg["cache_control"] = block["cache_control"]
    return msg


def _assistant_messages(content: Any, i: int, extensions: frozenset[str]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "assistant", "content": content}]
    texts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    thinking: list[dict[str, Any]] = []
    for block in _blocks(content, i, ASSISTANT_BLOCKS):
        kind = block["type"]
        if kind == "text":
            texts.append(_with_cache({"type": "text", "text": str(block.get("text", ""))}, block, extensions))
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
        elif "thinking" in extensions:  # signed thinking must go back unchanged; others cannot use it
            thinking.append(
                {k: v for k, v in block.items() if k in ("type", "thinking", "signature", "data")}
            )
    msg: dict[str, Any] = {"role": "assistant"}
    if any("cache_control" in t for t in texts):
        msg["content"] = texts
    else:
        msg["content"] = "".join(t["text"] for t in texts) if texts or not calls else None
    if calls:
        msg["tool_calls"] = calls
    if thinking:
        msg["thinking_blocks"] = thinking
    return [msg]


def _tools(body: dict[str, Any], out: dict[str, Any], extensions: frozenset[str]) -> None:
    tools = []
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or tool.get("type") not in (None, "custom") or not tool.get("name"):
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise bad_request(
                f"tools.{i}: only custom tools are supported through this hub (not {kind!r})", param="tools"
            )
        fn: dict[str, Any] = {
            "name": tool["name"],
            "parameters": tool.get("input_schema") or {"type": "object"},
        }
        if tool.get("description"):
            fn["description"] = tool["description"]
        tools.append(_with_cache({"type": "function", "function": fn}, tool, extensions))
    if not tools:
        return
    out["tools"] = tools
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        return
    kind = choice.get("type")
    if kind == "any":
        out["tool_choice"] = "required"
    elif kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": str(choice.get("name", ""))}}
    elif kind in ("auto", "none"):
        out["tool_choice"] = kind
    if choice.get("disable_parallel_tool_use") and kind != "none":
        out["parallel_tool_calls"] = False


# --- answer: standard → Anthropic ------------------------------------------------------------------------


def anthropic_usage(usage: Usage) -> dict[str, Any]:
    """`Usage` (prompt tokens include cache reads and writes) → Anthropic's usage (they are separate)."""
    out: dict[str, Any] = {
        "input_tokens": max(0, usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens),
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cached_input_tokens,
        "output_tokens": usage.output_tokens,
    }
    if usage.reasoning_tokens:
        out["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return out


def message_id(upstream_id: Any) -> str:
    if isinstance(upstream_id, str) and upstream_id.startswith("msg_"):
        return upstream_id
    return f"msg_{uuid.uuid4().hex[:24]}"


def to_message(completion: dict[str, Any], usage: Usage, model: str) -> dict[str, Any]:
    """A ``chat.completion`` → an Anthropic Message object."""
    choices = completion.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    msg = choice.get("message") or {}
    content = _thinking_blocks(msg)
    text = msg.get("content")
    if isinstance(text, list):
        text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
    if text:
        content.append({"type": "text", "text": text})
    if msg.get("refusal"):
        content.append({"type": "text", "text": str(msg["refusal"])})
    for call in msg.get("tool_calls") or []:
        fn = call.get("function") or {}
        content.append(
            {"type": "tool_use", "id": call.get("id"), "name": fn.get("name"), "input": _arguments(fn)}
        )
    stop_reason = (
        "refusal"
        if msg.get("refusal")
        else STOP_REASONS.get(choice.get("finish_reason") or "stop", "end_turn")
    )
    return {
        "id": message_id(completion.get("id")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": anthropic_usage(usage),
    }


def _thinking_blocks(msg: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    for block in msg.get("thinking_blocks") or []:
        if block.get("type") == "redacted_thinking":
            blocks.append({"type": "redacted_thinking", "data": block.get("data", "")})
        elif block.get("type") == "thinking":
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": block.get("thinking", ""),
                    "signature": block.get("signature", ""),
                }
            )
    reasoning = msg.get("reasoning_content") or msg.get("reasoning")
    if not blocks and isinstance(reasoning, str) and reasoning:
        # reasoning from a vendor without signatures (DeepSeek, OpenAI-compatible): shown, never verifiable
        blocks.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    return blocks


def _arguments(fn: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(fn.get("arguments") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def error_type(err: HubError) -> str:
    if err.code == "upstream_overloaded":
        return "overloaded_error"
    if err.status in ERROR_TYPES:
        return ERROR_TYPES[err.status]
    return "invalid_request_error" if err.status < 500 else "api_error"


def error_body(err: HubError, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "error": {"type": error_type(err), "message": err.message}}
    if request_id:
        body["request_id"] = request_id
    return body


def sse(event: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event}\ndata: {payload}\n\n".encode()


class AnthropicSSE:
    """Standard chunks → Anthropic's named events (a `StreamRenderer`).

    ``message_start`` (+ ``ping``) on the first chunk; each run of text, reasoning or one tool call becomes a
    content block (start, deltas, stop); the finish reason and the call's final usage go into
    ``message_delta`` at the end, then ``message_stop``.
    """

    def __init__(self, model: str, upstream: UpstreamStream) -> None:
        self.model = model
        self.upstream = upstream
        self.started = False
        self.index = -1
        self.open: str | None = None  # kind of the open content block
        self.tool_blocks: dict[int, int] = {}  # tool_calls index → content block index
        self.stop_reason: str | None = None

    def chunks(self, chunks: list[Chunk]) -> bytes:
        out: list[bytes] = []
        for chunk in chunks:
            if chunk.usage_only:
                continue  # the final usage is read from the upstream at the end
            data = chunk.data
            if not self.started:
                out.append(self._start(data.get("id")))
            for choice in data.get("choices") or []:
                if choice.get("index", 0) != 0:
                    continue  # Anthropic has one answer per message
                self._delta(choice.get("delta") or {}, out)
                reason = choice.get("finish_reason")
                if reason:
                    self._close(out)
                    self.stop_reason = STOP_REASONS.get(reason, "end_turn")
        return b"".join(out)

    def end(self) -> bytes:
        out = [] if self.started else [self._start(None)]
        self._close(out)
        delta = {"stop_reason": self.stop_reason or "end_turn", "stop_sequence": None}
        usage = anthropic_usage(self.upstream.ctx.record.usage)
        out.append(sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(sse("message_stop", {"type": "message_stop"}))
        return b"".join(out)

    def error(self, err: HubError) -> bytes:
        return sse("error", error_body(err))

    def _start(self, upstream_id: Any) -> bytes:
        self.started = True
        # an Anthropic upstream has reported the prompt's usage by now; other dialects only at the end
        usage = anthropic_usage(self.upstream.normalizer.usage)
        usage["output_tokens"] = 0
        message = {
            "id": message_id(upstream_id),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return sse("message_start", {"type": "message_start", "message": message}) + sse(
            "ping", {"type": "ping"}
        )

    def _delta(self, delta: dict[str, Any], out: list[bytes]) -> None:
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            self._block_delta("thinking", {"type": "thinking_delta", "thinking": reasoning}, out)
        for block in delta.get("thinking_blocks") or []:
            self._thinking_block(block, out)
        text = delta.get("content")
        if isinstance(text, str) and text:
            self._block_delta("text", {"type": "text_delta", "text": text}, out)
        for call in delta.get("tool_calls") or []:
            self._tool_call(call, out)

    def _thinking_block(self, block: dict[str, Any], out: list[bytes]) -> None:
        if block.get("type") == "redacted_thinking":
            self._open("redacted_thinking", {"type": "redacted_thinking", "data": block.get("data", "")}, out)
            self._close(out)
            return
        if block.get("thinking"):
            self._block_delta("thinking", {"type": "thinking_delta", "thinking": block["thinking"]}, out)
        if block.get("signature"):
            self._block_delta("thinking", {"type": "signature_delta", "signature": block["signature"]}, out)

    def _tool_call(self, call: dict[str, Any], out: list[bytes]) -> None:
        position = int(call.get("index", 0))
        fn = call.get("function") or {}
        if position not in self.tool_blocks:
            start = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{uuid.uuid4().hex[:24]}",
                "name": fn.get("name") or "",
                "input": {},
            }
            self._open("tool_use", start, out)
            self.tool_blocks[position] = self.index
        arguments = fn.get("arguments")
        if arguments:
            # fragments of an earlier call (rare interleaving) go to that call's block, as the SDK accumulates
            index = self.tool_blocks[position]
            delta = {"type": "input_json_delta", "partial_json": arguments}
            out.append(
                sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            )

    def _block_delta(self, kind: str, delta: dict[str, Any], out: list[bytes]) -> None:
        if self.open != kind:
            empty = (
                {"type": "text", "text": ""}
                if kind == "text"
                else {"type": "thinking", "thinking": "", "signature": ""}
            )
            self._open(kind, empty, out)
        out.append(
            sse("content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta})
        )

    def _open(self, kind: str, block: dict[str, Any], out: list[bytes]) -> None:
        self._close(out)
        self.index += 1
        self.open = kind
        out.append(
            sse(
                "content_block_start",
                {"type": "content_block_start", "index": self.index, "content_block": block},
            )
        )

    def _close(self, out: list[bytes]) -> None:
        if self.open is not None:
            out.append(sse("content_block_stop", {"type": "content_block_stop", "index": self.index}))
            self.open = None


def extensions_of(provider: Any) -> frozenset[str]:
    """The extensions a provider declares it reads (``standard_extensions``; none when it declares none)."""
    return provider.standard_extensions & EXTENSIONS


def common_extensions(providers: list[Any]) -> frozenset[str]:
    """The extensions every candidate provider reads (none when there is no candidate)."""
    sets = [extensions_of(p) for p in providers]
    return frozenset.intersection(*sets) if sets else frozenset()
