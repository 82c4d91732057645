"""Anthropic provider for AIGNE Hub: the Messages API (JSON and named SSE events) behind the hub's standard
format (OpenAI chat completions), with tools, images, documents, thinking and prompt caching.

Requests become ``POST {base}/messages`` bodies; answers come back as ``chat.completion`` /
``chat.completion.chunk`` objects whose usage counts cache reads and writes the way OpenAI counts cached
tokens (inside ``prompt_tokens``), so billing sees one convention for every provider.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from hub_core import (
    Chunk,
    Credential,
    HubError,
    NormalizedResponse,
    Normalizer,
    Provider,
    Route,
    UpstreamRequest,
    Usage,
    hookimpl,
)
from hub_core.providers import (
    ChatRequest,
    File,
    Image,
    Message,
    OtherPart,
    Part,
    ResponseFormat,
    SSEParser,
    Text,
    Tool,
    ToolChoice,
    assistant_message,
    bad_request,
    chat_completion,
    load_json_object,
    openai_usage,
    tool_call,
    unsupported,
)

API_VERSION = "2023-06-01"
#: ``max_tokens`` is required by Anthropic; every current Claude model can produce at least this many
DEFAULT_MAX_TOKENS = 4096
#: the tool that carries ``response_format: json_schema`` answers; user tools may not use this name
JSON_TOOL = "hub_json_response"
#: ``reasoning_effort`` → thinking budget (Anthropic's minimum budget is 1024)
EFFORT_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
#: fields the count_tokens endpoint accepts (it rejects the sampling parameters of /messages)
COUNT_TOKENS_FIELDS = ("model", "messages", "system", "tools", "tool_choice", "thinking")


# --- standard request → Messages API request -----------------------------------------------------------


def messages_body(payload: dict[str, Any], model: str, stream: bool) -> tuple[dict[str, Any], list[str]]:
    """The Messages API body for a standard chat request, and the ``anthropic-beta`` values it asks for."""
    if payload.get("n") not in (None, 1):
        raise bad_request("n: Anthropic returns exactly one choice per request", param="n")
    request = ChatRequest.parse(payload)
    system, messages = convert_messages(request.messages)
    tools = convert_tools(request.tools)
    thinking, from_effort = _thinking(payload)
    thinking_on = bool(thinking and thinking.get("type") in ("enabled", "adaptive"))
    max_tokens = _max_tokens(request.max_tokens, thinking, from_effort)
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    tool_choice = _tool_choice(request.tool_choice, payload.get("parallel_tool_calls"))
    forced, instruction = _response_format(request.response_format, tools, thinking_on)
    if forced is not None:
        tools.append(forced)
        tool_choice = {"type": "tool", "name": JSON_TOOL}
    if instruction:
        system.append({"type": "text", "text": instruction})
    if system:
        body["system"] = system
    if tools:
        body["tools"] = tools
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
    if thinking is not None:
        body["thinking"] = thinking
    _sampling(request, body, thinking_on)
    if stream:
        body["stream"] = True
    beta = payload.get("anthropic_beta") or []
    if isinstance(beta, str):
        beta = [beta]
    return body, [str(b) for b in beta]


def count_tokens_body(payload: dict[str, Any], model: str) -> tuple[dict[str, Any], list[str]]:
    body, beta = messages_body(payload, model, stream=False)
    return {k: body[k] for k in COUNT_TOKENS_FIELDS if k in body}, beta


def convert_messages(messages: list[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Standard messages → (system blocks, alternating user/assistant messages)."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "system":
            system.extend(_system_blocks(msg))
            continue
        if msg.role == "assistant":
            blocks, anthropic_role = _assistant_blocks(msg), "assistant"
        elif msg.role == "tool":
            blocks, anthropic_role = [_tool_result(msg)], "user"
        else:
            blocks, anthropic_role = [_block(part) for part in msg.parts], "user"
        if msg.cache_control and blocks:
            blocks[-1]["cache_control"] = msg.cache_control
        if not blocks:
            continue
        if out and out[-1]["role"] == anthropic_role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": anthropic_role, "content": blocks})
    for item in out:
        if item["role"] == "user":  # Anthropic wants tool results before anything else in their message
            item["content"].sort(key=lambda b: b.get("type") != "tool_result")
    return system, out


def _system_blocks(msg: Message) -> list[dict[str, Any]]:
    blocks = []
    for part in msg.parts:
        if not isinstance(part, Text):
            raise bad_request(f"{msg.where}: system messages may only contain text", param=msg.where)
        blocks.append(_with_cache({"type": "text", "text": part.text}, part.cache_control))
    return blocks


def _block(part: Part) -> dict[str, Any]:
    if isinstance(part, Text):
        return _with_cache({"type": "text", "text": part.text}, part.cache_control)
    if isinstance(part, Image):
        return _with_cache(_image_block(part), part.cache_control)
    if isinstance(part, File):
        return _with_cache(_file_block(part), part.cache_control)
    kind = part.type if isinstance(part, OtherPart) else "input_audio"
    raise unsupported(part.where, f"content type {kind!r}", "Anthropic")


def _with_cache(block: dict[str, Any], mark: dict[str, Any] | None) -> dict[str, Any]:
    if mark is not None:
        block["cache_control"] = mark
    return block


def _image_block(image: Image) -> dict[str, Any]:
    if image.inline is not None:
        if image.inline.mime not in IMAGE_TYPES:
            raise bad_request(
                f"{image.where}: Anthropic accepts {', '.join(sorted(IMAGE_TYPES))} images", param=image.where
            )
        source = {"type": "base64", "media_type": image.inline.mime, "data": image.inline.data}
        return {"type": "image", "source": source}
    if image.is_remote:
        return {"type": "image", "source": {"type": "url", "url": image.url}}
    raise bad_request(f"{image.where}.image_url.url must be an http(s) URL or a data URL", param=image.where)


def _file_block(file: File) -> dict[str, Any]:
    if file.inline is None:
        raise unsupported(file.where, "a file without file.file_data", "Anthropic")
    mime, data = file.inline.mime, file.inline.data
    block: dict[str, Any]
    if mime == "application/pdf":
        block = {"type": "document", "source": {"type": "base64", "media_type": mime, "data": data}}
    elif mime.startswith("text/"):
        try:
            text = file.inline.decode().decode()
        except UnicodeDecodeError as exc:
            raise bad_request(f"{file.where}: the text file is not UTF-8", param=file.where) from exc
        block = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": text}}
    else:
        raise bad_request(
            f"{file.where}: Anthropic accepts PDF and plain-text documents, not {mime}", param=file.where
        )
    if file.filename:
        block["title"] = file.filename
    return block


def _assistant_blocks(msg: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for tb in msg.raw.get("thinking_blocks") or []:  # must go back unchanged for thinking + tool use
        if isinstance(tb, dict) and tb.get("type") == "thinking":
            blocks.append(
                {"type": "thinking", "thinking": tb.get("thinking", ""), "signature": tb.get("signature", "")}
            )
        elif isinstance(tb, dict) and tb.get("type") == "redacted_thinking":
            blocks.append({"type": "redacted_thinking", "data": tb.get("data", "")})
    # assistant parts are text (or refusal) only
    blocks.extend(_block(part) for part in msg.parts if isinstance(part, Text))
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in msg.tool_calls
    )
    return blocks


def _tool_result(msg: Message) -> dict[str, Any]:
    if not msg.tool_call_id:
        raise bad_request(f"{msg.where}.tool_call_id is required for tool messages", param=msg.where)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": msg.tool_call_id}
    if msg.content_is_list:
        block["content"] = [_block(part) for part in msg.parts]
    elif msg.raw.get("content") is not None:
        block["content"] = str(msg.raw["content"])
    if msg.raw.get("is_error"):
        block["is_error"] = True
    return block


def convert_tools(tools: list[Tool]) -> list[dict[str, Any]]:
    out = []
    for i, tool in enumerate(tools):
        if tool.name == JSON_TOOL:
            raise bad_request(
                f"tools[{i}]: the tool name {JSON_TOOL!r} is reserved by the hub", param="tools"
            )
        entry: dict[str, Any] = {
            "name": tool.name,
            "input_schema": tool.parameters or {"type": "object", "properties": {}},
        }
        if tool.description:
            entry["description"] = tool.description
        out.append(_with_cache(entry, tool.cache_control))
    return out


def _tool_choice(choice: ToolChoice | None, parallel: Any) -> dict[str, Any] | None:
    mapped: dict[str, Any] | None
    if choice is None:
        mapped = None
    elif choice.mode == "required":
        mapped = {"type": "any"}
    elif choice.mode == "function":
        mapped = {"type": "tool", "name": choice.name}
    else:
        mapped = {"type": choice.mode}
    if parallel is False:
        mapped = mapped or {"type": "auto"}
        if mapped["type"] != "none":
            mapped["disable_parallel_tool_use"] = True
    return mapped


def _thinking(payload: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """Anthropic's own ``thinking`` object when given, else one derived from ``reasoning_effort``; and
    whether it was derived."""
    raw = payload.get("thinking")
    if isinstance(raw, dict):
        return dict(raw), False
    effort = payload.get("reasoning_effort")
    if effort is None or effort == "none":
        return None, False
    if effort not in EFFORT_BUDGETS:
        raise bad_request(
            f"reasoning_effort must be one of {', '.join(EFFORT_BUDGETS)}", param="reasoning_effort"
        )
    return {"type": "enabled", "budget_tokens": EFFORT_BUDGETS[effort]}, True


def _max_tokens(requested: int | None, thinking: dict[str, Any] | None, from_effort: bool) -> int:
    budget = thinking.get("budget_tokens") if thinking else None
    if thinking is not None and from_effort:
        # OpenAI's limit includes reasoning; fit the budget under it rather than raising the caller's cap
        if requested is None:
            return int(budget or 0) + DEFAULT_MAX_TOKENS
        if requested <= 1024:
            raise bad_request(
                "max_completion_tokens must be above 1024 to use reasoning_effort with Claude",
                param="max_tokens",
            )
        thinking["budget_tokens"] = min(int(budget or 0), requested - 1)
        return requested
    if requested is None:
        return int(budget) + DEFAULT_MAX_TOKENS if isinstance(budget, int) else DEFAULT_MAX_TOKENS
    return requested


def _response_format(
    fmt: ResponseFormat | None, tools: list[dict[str, Any]], thinking_on: bool
) -> tuple[dict[str, Any] | None, str]:
    """A forced tool for ``json_schema`` when possible (exact schema, any model), else an instruction.

    Forcing a tool is impossible next to the caller's own tools or with thinking on (Anthropic refuses forced
    tool use with thinking), so those fall back to instructions in the system prompt.
    """
    if fmt is None:
        return None, ""
    if fmt.type == "json_object":
        return None, "Answer only with one valid JSON object and no other text."
    schema = fmt.schema or {"type": "object"}
    if not tools and not thinking_on and schema.get("type") == "object":
        description = "Give the final answer as the input of this tool."
        if fmt.description:
            description += f" {fmt.description}"
        return {"name": JSON_TOOL, "description": description, "input_schema": schema}, ""
    return None, (
        "Answer only with JSON that matches this JSON schema, and no other text:\n"
        + json.dumps(schema, ensure_ascii=False)
    )


def _sampling(request: ChatRequest, body: dict[str, Any], thinking_on: bool) -> None:
    if request.stop:
        body["stop_sequences"] = request.stop
    # With thinking on, Anthropic refuses temperature/top_k changes and top_p below 0.95: leave them out
    temperature = request.number("temperature")
    if temperature is not None and not thinking_on:
        body["temperature"] = min(max(float(temperature), 0.0), 1.0)  # OpenAI's range is 0..2
    top_p = request.number("top_p")
    if top_p is not None and (not thinking_on or top_p >= 0.95):
        body["top_p"] = top_p
    if request.raw.get("top_k") is not None and not thinking_on:
        body["top_k"] = request.raw["top_k"]
    user = request.raw.get("user")
    if isinstance(user, str) and user:
        body["metadata"] = {"user_id": user[:256]}


# --- Messages API answer → standard answer ---------------------------------------------------------------


def usage_of(raw: dict[str, Any] | None) -> Usage:
    """Anthropic usage → `Usage`. ``input_tokens`` there excludes cache reads and writes; here it includes
    them (as OpenAI's ``prompt_tokens`` includes cached tokens), with both kept as their own fields."""
    raw = raw or {}
    fresh = int(raw.get("input_tokens") or 0)
    read = int(raw.get("cache_read_input_tokens") or 0)
    write = int(raw.get("cache_creation_input_tokens") or 0)
    details = raw.get("output_tokens_details") or {}
    return Usage(
        input_tokens=fresh + read + write,
        output_tokens=int(raw.get("output_tokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=int(details.get("thinking_tokens") or 0),
    )


def finish_reason(stop_reason: str | None, json_answer: bool = False) -> str:
    if json_answer and stop_reason == "tool_use":
        return "stop"
    return FINISH_REASONS.get(stop_reason or "end_turn", "stop")


def to_completion(data: dict[str, Any], usage: Usage) -> dict[str, Any]:
    texts: list[str] = []
    reasoning: list[str] = []
    thinking_blocks: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    json_answer = False
    for block in data.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "thinking":
            reasoning.append(block.get("thinking") or "")
            thinking = {"thinking": block.get("thinking") or "", "signature": block.get("signature") or ""}
            thinking_blocks.append({"type": "thinking", **thinking})
        elif kind == "redacted_thinking":
            thinking_blocks.append({"type": "redacted_thinking", "data": block.get("data") or ""})
        elif kind == "tool_use" and block.get("name") == JSON_TOOL:
            texts.append(json.dumps(block.get("input") or {}, ensure_ascii=False))
            json_answer = True
        elif kind == "tool_use":
            tool_calls.append(
                tool_call(str(block.get("id")), str(block.get("name")), block.get("input") or {})
            )
    message = assistant_message("".join(texts), tool_calls, "".join(reasoning))
    if thinking_blocks:
        message["thinking_blocks"] = thinking_blocks
    choice = {"message": message, "finish_reason": finish_reason(data.get("stop_reason"), json_answer)}
    answer_id = str(data.get("id") or "") or None
    return chat_completion(str(data.get("model") or ""), [choice], usage, completion_id=answer_id)


def _load(body: bytes) -> dict[str, Any]:
    return load_json_object(body, "Anthropic")


def error_parts(body: bytes) -> tuple[str, str]:
    """(error.type, error.message) of an Anthropic error body, tolerating anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        return "", body[:300].decode(errors="replace").strip()
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("type") or ""), str(err.get("message") or "")[:1000]
    return "", str(data)[:300]


def _in_band_error(data: dict[str, Any]) -> HubError:
    """An ``error`` event (or error object inside a 200) → the `HubError` the client sees."""
    err = data.get("error") if isinstance(data.get("error"), dict) else {}
    etype, message = str(err.get("type") or ""), str(err.get("message") or "unknown error")
    if etype == "overloaded_error":
        return HubError(
            503, "upstream_overloaded", f"Anthropic is overloaded: {message}", type="upstream_error"
        )
    if etype == "rate_limit_error":
        return HubError(429, "rate_limited", f"Anthropic rate limit: {message}")
    return HubError(
        502, "upstream_error", f"Anthropic error during the answer: {message}", type="upstream_error"
    )


class AnthropicNormalizer(Normalizer):
    """A Messages API JSON answer → ``chat.completion``."""

    def parse(self, body: bytes) -> NormalizedResponse:
        data = _load(body)
        if data.get("type") == "error":
            raise _in_band_error(data)
        if data.get("type") != "message" or not isinstance(data.get("content"), list):
            raise HubError(
                502, "upstream_malformed", "Anthropic sent an answer without a message", type="upstream_error"
            )
        self.usage = usage_of(data.get("usage"))
        self.saw_usage = isinstance(data.get("usage"), dict)
        return NormalizedResponse(to_completion(data, self.usage), self.usage)


class AnthropicStreamNormalizer(Normalizer):
    """Anthropic's named SSE events → ``chat.completion.chunk`` objects, ending with one usage-only chunk.

    Tool-use blocks become ``tool_calls`` numbered in order of appearance; ``thinking_delta`` becomes
    ``delta.reasoning_content`` and ``signature_delta`` / redacted thinking become ``delta.thinking_blocks``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._sse = SSEParser()
        self._raw_usage: dict[str, Any] = {}
        self._id = ""
        self._model = ""
        self._created = int(time.time())
        self._tool_index: dict[int, int] = {}  # Anthropic block index → tool_calls index
        self._json_blocks: set[int] = set()
        self._stopped = False

    def feed(self, data: bytes) -> list[Chunk]:
        return self._chunks(self._sse.feed(data))

    def finish(self) -> list[Chunk]:
        out = self._chunks(self._sse.finish())
        if not self._stopped:
            raise HubError(
                502, "upstream_broken", "Anthropic's stream ended before message_stop", type="upstream_error"
            )
        return out

    def _chunks(self, events: list[tuple[str | None, bytes]]) -> list[Chunk]:
        out: list[Chunk] = []
        for event, payload in events:
            if not payload:
                continue
            data = _load(payload)
            handler = self._handlers.get(str(data.get("type") or event))
            try:
                chunk = handler(self, data) if handler else None
            except HubError as exc:
                if not out:
                    raise
                self.pending_error = exc  # the gateway delivers the chunks before it first
                break
            if chunk is not None:
                out.append(chunk)
        return out

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> Chunk:
        return Chunk(
            {
                "id": self._id,
                "object": "chat.completion.chunk",
                "created": self._created,
                "model": self._model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    def _update_usage(self, raw: Any) -> None:
        if isinstance(raw, dict):  # message_delta counts are cumulative: later values replace earlier ones
            self._raw_usage.update({k: v for k, v in raw.items() if v is not None})
            self.usage = usage_of(self._raw_usage)

    def _on_message_start(self, data: dict[str, Any]) -> Chunk:
        message = data.get("message") or {}
        self._id, self._model = str(message.get("id") or ""), str(message.get("model") or "")
        self._update_usage(message.get("usage"))
        return self._chunk({"role": "assistant", "content": ""})

    def _on_content_block_start(self, data: dict[str, Any]) -> Chunk | None:
        index, block = int(data.get("index", 0)), data.get("content_block") or {}
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return self._chunk({"content": block["text"]})
        if kind == "thinking" and block.get("thinking"):
            return self._chunk({"reasoning_content": block["thinking"]})
        if kind == "redacted_thinking":
            return self._chunk(
                {"thinking_blocks": [{"type": "redacted_thinking", "data": block.get("data", "")}]}
            )
        if kind == "tool_use" and block.get("name") == JSON_TOOL:
            self._json_blocks.add(index)
            return None
        if kind == "tool_use":
            position = self._tool_index[index] = len(self._tool_index)
            arguments = json.dumps(block["input"], ensure_ascii=False) if block.get("input") else ""
            call = {
                "index": position,
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": arguments},
            }
            return self._chunk({"tool_calls": [call]})
        return None  # server tool blocks and the like have no standard form

    def _on_content_block_delta(self, data: dict[str, Any]) -> Chunk | None:
        index, delta = int(data.get("index", 0)), data.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            return self._chunk({"content": delta.get("text", "")})
        if kind == "thinking_delta":
            return self._chunk({"reasoning_content": delta.get("thinking", "")})
        if kind == "signature_delta":
            block = {"type": "thinking", "thinking": "", "signature": delta.get("signature", "")}
            return self._chunk({"thinking_blocks": [block]})
        if kind == "input_json_delta" and delta.get("partial_json"):
            if index in self._json_blocks:
                return self._chunk({"content": delta["partial_json"]})
            if index in self._tool_index:
                call = {"index": self._tool_index[index], "function": {"arguments": delta["partial_json"]}}
                return self._chunk({"tool_calls": [call]})
        return None

    def _on_message_delta(self, data: dict[str, Any]) -> Chunk | None:
        self._update_usage(data.get("usage"))
        self.saw_usage = self.saw_usage or isinstance(data.get("usage"), dict)
        reason = (data.get("delta") or {}).get("stop_reason")
        if not reason:
            return None
        return self._chunk({}, finish_reason(reason, bool(self._json_blocks) and not self._tool_index))

    def _on_message_stop(self, data: dict[str, Any]) -> Chunk:
        self._stopped = True
        self.usage = usage_of(self._raw_usage)
        self.saw_usage = True
        chunk = self._chunk({})
        chunk.data["choices"] = []
        chunk.data["usage"] = openai_usage(self.usage)
        chunk.usage_only = True
        return chunk

    def _on_error(self, data: dict[str, Any]) -> None:
        raise _in_band_error(data)

    _handlers: ClassVar[dict[str, Callable[..., Chunk | None]]] = {
        "message_start": _on_message_start,
        "content_block_start": _on_content_block_start,
        "content_block_delta": _on_content_block_delta,
        "message_delta": _on_message_delta,
        "message_stop": _on_message_stop,
        "error": _on_error,
    }


class CountTokensNormalizer(Normalizer):
    """``/messages/count_tokens`` → ``{"input_tokens": n}``; counting is free, so usage stays zero."""

    def parse(self, body: bytes) -> NormalizedResponse:
        data = _load(body)
        tokens = data.get("input_tokens")
        if not isinstance(tokens, int):
            raise HubError(502, "upstream_malformed", "Anthropic sent no input_tokens", type="upstream_error")
        self.saw_usage = True
        return NormalizedResponse({"input_tokens": tokens}, self.usage)


# --- the provider -------------------------------------------------------------------------------------


class AnthropicProvider(Provider):
    name = "anthropic"
    display_name = "Anthropic"
    default_base_url = "https://api.anthropic.com/v1"
    capabilities = frozenset({"chat", "count_tokens"})
    env_credentials = {"api_key": "ANTHROPIC_API_KEY"}
    env_base_url = "ANTHROPIC_BASE_URL"
    test_model = "claude-haiku-4-5"
    known_models = {
        "chat": (
            "claude-opus-4-1",
            "claude-opus-4-0",
            "claude-sonnet-4-5",
            "claude-sonnet-4-0",
            "claude-haiku-4-5",
            "claude-3-7-sonnet-latest",
            "claude-3-5-haiku-latest",
        )
    }
    #: fields beyond OpenAI's chat format this provider reads (see docs/anthropic-api.md)
    standard_extensions: ClassVar[frozenset[str]] = frozenset(
        {"cache_control", "thinking", "top_k", "tool_result_blocks", "anthropic_beta"}
    )

    def url(self, route: Route, path: str) -> str:
        base = route.base_url.rstrip("/")
        if urlsplit(base).path == "":  # ANTHROPIC_BASE_URL in the SDK's form (no /v1), as the SDK does
            base += "/v1"
        return base + path

    def _request(self, route: Route, path: str, body: dict[str, Any], beta: list[str]) -> UpstreamRequest:
        headers = {"Content-Type": "application/json", "anthropic-version": API_VERSION}
        if beta:
            headers["anthropic-beta"] = ",".join(beta)
        return UpstreamRequest("POST", self.url(route, path), headers=headers, json=body)

    def build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        body, beta = messages_body(payload, route.model, stream)
        return self._request(route, "/messages", body, beta)

    def build_count_tokens(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        body, beta = count_tokens_body(payload, route.model)
        return self._request(route, "/messages/count_tokens", body, beta)

    def apply_credential(self, upstream: UpstreamRequest, credential: Credential | None) -> None:
        if credential is not None and credential.api_key:
            upstream.headers["x-api-key"] = credential.api_key

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        if kind == "chat":
            return AnthropicStreamNormalizer() if stream else AnthropicNormalizer()
        if kind == "count_tokens":
            return CountTokensNormalizer()
        return super().normalizer(kind, stream, route, payload)

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        # the base maps the statuses (529: overloaded); an overloaded_error means that whatever its status
        etype, _ = error_parts(body)
        err = super().map_error(529 if etype == "overloaded_error" else status, body, headers)
        err.extra.update({"upstream_status": status, "upstream_type": etype})
        return err

    def models_request(self, route: Route) -> UpstreamRequest:
        return UpstreamRequest(
            "GET",
            self.url(route, "/models"),
            headers={"anthropic-version": API_VERSION},
            params={"limit": "1000"},
        )

    def parse_models(self, body: bytes) -> list[str]:
        data = _load(body)
        return sorted(str(m["id"]) for m in data.get("data", []) if isinstance(m, dict) and m.get("id"))


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(AnthropicProvider())
