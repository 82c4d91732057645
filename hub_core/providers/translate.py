"""Helpers for providers that translate another vendor dialect to and from the hub's standard format.

The standard format is OpenAI's: requests are Chat Completions bodies, answers are ``chat.completion`` objects
or ``chat.completion.chunk`` streams with a ``usage`` object. `Usage` follows OpenAI's counting: input tokens
include cached ones, output tokens include reasoning ones. These helpers write the answer side (completions,
chunks, usage, embeddings, images), so each vendor plugin only maps fields; the chat request is read through
the typed view in `hub_core.providers.request`.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from typing import Any

from hub_core.errors import HubError
from hub_core.providers.base import Chunk, _upstream_message
from hub_core.types import Usage

# --- the request side (chat requests: `hub_core.providers.request.ChatRequest`) ---------------------------


def encoding_format(payload: dict[str, Any]) -> str | None:
    """The embedding encoding an embeddings request asks for (``float`` or ``base64``; None: the default)."""
    fmt = payload.get("encoding_format")
    return fmt if fmt in ("float", "base64") else None


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
