"""Helpers for providers that translate another vendor dialect to and from the hub's standard format.

The standard format is OpenAI's: requests are Chat Completions bodies, answers are ``chat.completion`` objects
or ``chat.completion.chunk`` streams with a ``usage`` object. `Usage` follows OpenAI's counting: input tokens
include cached ones, output tokens include reasoning ones. These helpers read the request side (message text,
images as data URLs, tool-call ids) and write the answer side (completions, chunks, usage, embeddings,
images), so each vendor plugin only maps fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import time
import uuid
from typing import Any

from hub_core.errors import HubError, bad_request
from hub_core.errors import upstream_auth_failed as upstream_auth_failed  # re-exported for plugins
from hub_core.providers.base import Chunk, _upstream_message
from hub_core.providers.base import upstream_payment_required as upstream_payment_required
from hub_core.types import Usage

# --- the request side --------------------------------------------------------------------------------------


def content_parts(content: Any) -> list[dict[str, Any]]:
    """A message's content as a list of OpenAI content parts (a bare string becomes one text part)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        return [p if isinstance(p, dict) else {"type": "text", "text": str(p)} for p in content]
    return [{"type": "text", "text": str(content)}]


def text_of(content: Any) -> str:
    """The text of a message's content, parts joined without separators (as OpenAI does)."""
    return "".join(p.get("text", "") for p in content_parts(content) if p.get("type") == "text")


def image_url_of(part: dict[str, Any]) -> str | None:
    if part.get("type") != "image_url":
        return None
    ref = part.get("image_url")
    url = ref.get("url") if isinstance(ref, dict) else ref
    return url if isinstance(url, str) else None


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:image/png;base64,AAAA`` → (``image/png``, ``AAAA``); None for other URLs.

    Raises a 400 `HubError` for a data URL that is not base64 or not decodable, so the client learns at once
    instead of from a vendor error.
    """
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        raise bad_request("image data URLs must be base64-encoded (data:<mime>;base64,...)")
    mime = header[: -len(";base64")] or "application/octet-stream"
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(f"image data URL is not valid base64: {exc}") from exc
    return mime, data


def tool_names_by_id(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Map tool-call ids to function names, for vendors whose tool results carry the name, not the id."""
    names: dict[str, str] = {}
    for msg in messages:
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") or {}
            if call.get("id") and fn.get("name"):
                names[str(call["id"])] = str(fn["name"])
    return names


def tool_arguments(call: dict[str, Any]) -> dict[str, Any]:
    """The arguments of an OpenAI tool call as an object (vendors want JSON, OpenAI sends a string)."""
    raw = (call.get("function") or {}).get("arguments")
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"tool call arguments are not valid JSON: {exc}") from exc
    return value if isinstance(value, dict) else {"value": value}


def max_tokens_of(payload: dict[str, Any]) -> int | None:
    value = payload.get("max_completion_tokens", payload.get("max_tokens"))
    return int(value) if isinstance(value, int) and value > 0 else None


def encoding_format(payload: dict[str, Any]) -> str | None:
    """The embedding encoding an embeddings request asks for (``float`` or ``base64``; None: the default)."""
    fmt = payload.get("encoding_format")
    return fmt if fmt in ("float", "base64") else None


def stop_list(payload: dict[str, Any]) -> list[str]:
    stop = payload.get("stop")
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else []


# --- the answer side ---------------------------------------------------------------------------------------


def openai_usage(usage: Usage) -> dict[str, Any]:
    """A `Usage` as OpenAI's usage object, with the cached and reasoning details clients read."""
    out: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }
    if usage.cache_write_tokens:
        out["prompt_tokens_details"]["cache_write_tokens"] = usage.cache_write_tokens
    return out


def new_id(prefix: str = "chatcmpl") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def tool_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def assistant_message(
    text: str | None, tool_calls: list[dict[str, Any]] | None = None, reasoning: str | None = None
) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": text if (text or not tool_calls) else None}
    if reasoning:
        # DeepSeek's field name, which most OpenAI-dialect clients and vendors already read
        msg["reasoning_content"] = reasoning
    if tool_calls:
        msg["tool_calls"] = tool_calls
    msg["refusal"] = None
    return msg


def chat_completion(
    model: str,
    choices: list[dict[str, Any]],
    usage: Usage,
    *,
    completion_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object; each choice is ``{"message": ..., "finish_reason": ...}``."""
    return {
        "id": completion_id or new_id(),
        "object": "chat.completion",
        "created": created or int(time.time()),
        "model": model,
        "choices": [
            {"index": i, "message": c["message"], "logprobs": None, "finish_reason": c["finish_reason"]}
            for i, c in enumerate(choices)
        ],
        "usage": openai_usage(usage),
    }


class ChunkWriter:
    """Writes ``chat.completion.chunk`` objects for one translated stream (same id, model and time)."""

    def __init__(self, model: str, completion_id: str | None = None) -> None:
        self.model = model
        self.id = completion_id or new_id()
        self.created = int(time.time())
        self._started: set[int] = set()

    def _chunk(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> Chunk:
        data: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if usage is not None:
            data["usage"] = usage
        return Chunk(data, usage_only=usage is not None and not choices)

    def delta(self, delta: dict[str, Any], index: int = 0, finish_reason: str | None = None) -> Chunk:
        """One delta; the first one of each choice also carries ``role: assistant``."""
        if index not in self._started:
            self._started.add(index)
            delta = {"role": "assistant", **delta}
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._chunk([choice])

    def text(self, text: str, index: int = 0) -> Chunk:
        return self.delta({"content": text}, index)

    def reasoning(self, text: str, index: int = 0) -> Chunk:
        return self.delta({"reasoning_content": text}, index)

    def tool_call(self, position: int, call_id: str, name: str, arguments: Any, index: int = 0) -> Chunk:
        """A complete tool call in one delta (vendors that send whole calls); `position` is its index."""
        call = tool_call(call_id, name, arguments)
        return self.delta({"tool_calls": [{"index": position, **call}]}, index)

    def tool_call_start(self, position: int, call_id: str, name: str, index: int = 0) -> Chunk:
        call = {
            "index": position,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        return self.delta({"tool_calls": [call]}, index)

    def tool_call_arguments(self, position: int, fragment: str, index: int = 0) -> Chunk:
        return self.delta({"tool_calls": [{"index": position, "function": {"arguments": fragment}}]}, index)

    def finish(self, finish_reason: str, index: int = 0) -> Chunk:
        return self.delta({}, index, finish_reason)

    def usage(self, usage: Usage) -> Chunk:
        """The usage-only chunk (``choices: []``) that OpenAI sends last when asked for usage."""
        return self._chunk([], openai_usage(usage))


def embeddings_response(
    model: str, vectors: list[list[float]], usage: Usage, encoding_format: str | None = None
) -> dict[str, Any]:
    """OpenAI's embeddings list; ``encoding_format=base64`` packs little-endian float32 as OpenAI does."""
    data = []
    for i, vector in enumerate(vectors):
        emb: Any = vector
        if encoding_format == "base64":
            emb = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": emb})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": usage.input_tokens, "total_tokens": usage.input_tokens},
    }


def images_response(items: list[dict[str, Any]], created: int | None = None) -> dict[str, Any]:
    """OpenAI's images answer; each item has ``b64_json`` or ``url`` (and maybe ``revised_prompt``)."""
    return {"created": created or int(time.time()), "data": items}


def load_json_object(body: bytes, what: str = "Upstream") -> dict[str, Any]:
    """Parse a JSON object or raise the hub's 502 for a malformed upstream answer."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise HubError(
            502, "upstream_malformed", f"{what} sent malformed JSON: {exc}", type="upstream_error"
        ) from exc
    if not isinstance(data, dict):
        raise HubError(
            502, "upstream_malformed", f"{what} sent JSON that is not an object", type="upstream_error"
        )
    return data


def estimate_tokens(text: str) -> int:
    """A rough token count (4 characters a token) for vendors that report none."""
    return (len(text) + 3) // 4


# --- errors ------------------------------------------------------------------------------------------------


def upstream_message(body: bytes) -> str:
    """The human message of a vendor error body (``error.message``, ``message``, ``error`` or the text)."""
    return _upstream_message(body)
