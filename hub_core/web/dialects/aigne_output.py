"""AIGNE answers from standard ones: a ``chat.completion`` (or its chunks) to the ChatModel output object
``{text, json, thoughts, toolCalls, model, usage, modelWithProvider}``, and the ``data:`` agent-response
chunks the ``@aigne/aigne-hub`` client reads when it streams."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from hub_core.errors import HubError
from hub_core.types import Usage

if TYPE_CHECKING:
    from hub_core.pipeline.gateway import CallContext
    from hub_core.providers.base import Chunk

log = structlog.get_logger("hub_core.web.dialects.aigne")

CREDIT_PREFIXES = ("$", "€", "¥")
#: the usage object of a call as it stands (tokens, and credits when billing charges)
UsageOf = Callable[["CallContext"], dict[str, Any]]
#: turns generated files (data: URLs or plain URLs) into the output's ``files`` entries (stored or inline)
FilesOf = Callable[[list[str]], list[dict[str, Any]]]


def usage_out(usage: Usage, credits: Decimal | None = None, prefix: str | None = None) -> dict[str, Any]:
    """Usage as the client's zod schema wants it: numbers, cache counts only when there are some, credits
    when the call was charged (the prefix only when it is one of the three the client accepts)."""
    out: dict[str, Any] = {"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens}
    if usage.cached_input_tokens:
        out["cacheReadInputTokens"] = usage.cached_input_tokens
    if usage.cache_write_tokens:
        out["cacheCreationInputTokens"] = usage.cache_write_tokens
    if credits is not None:
        out["aigneHubCredits"] = float(credits)
        if prefix in CREDIT_PREFIXES:
            out["creditPrefix"] = prefix
    return out


def parse_arguments(text: str | None) -> dict[str, Any]:
    """Tool-call arguments as an object. Malformed JSON becomes ``{}``; the client then checks the arguments
    against the tool's schema and retries, which is the best outcome for a model's broken output."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        log.warning("tool call arguments are not JSON", length=len(text))
        return {}
    return value if isinstance(value, dict) else {"value": value}


class ChatOutput:
    """Collects one answer (a whole ``chat.completion`` or its chunks) into the ChatModel output object."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.text: list[str] = []
        self.thoughts: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.images: list[str] = []  # generated pictures, as data: URLs or URLs
        self.model: str | None = None

    def add_completion(self, body: dict[str, Any]) -> None:
        self.model = body.get("model") or self.model
        choices = body.get("choices") or [{}]
        message = choices[0].get("message") or {}
        self._add_delta(message)
        for i, call in enumerate(message.get("tool_calls") or []):
            self.calls[i] = {"id": call.get("id") or f"call_{i}", "name": "", "args": ""}
            self._add_call_piece(self.calls[i], call)

    def add_chunk(self, data: dict[str, Any]) -> tuple[str, str]:
        """Take one chunk; returns the (text, thoughts) it added, for streaming them on."""
        if not self.model and data.get("model"):
            self.model = data["model"]
        choices = data.get("choices") or []
        if not choices:
            return "", ""
        delta = choices[0].get("delta") or {}
        for call in delta.get("tool_calls") or []:
            index = call.get("index", len(self.calls))
            slot = self.calls.setdefault(index, {"id": f"call_{index}", "name": "", "args": ""})
            self._add_call_piece(slot, call)
        return self._add_delta(delta)

    def _add_delta(self, delta: dict[str, Any]) -> tuple[str, str]:
        text = delta.get("content") or ""
        if isinstance(text, list):  # some vendors answer with content parts
            text = "".join(str(p.get("text") or "") for p in text if isinstance(p, dict))
        if not text and not self.text and isinstance(delta.get("refusal"), str):
            text = delta["refusal"]
        for image in delta.get("images") or []:  # OpenRouter's image output
            url = (image.get("image_url") or {}).get("url") if isinstance(image, dict) else None
            if isinstance(url, str):
                self.images.append(url)
        thoughts = delta.get("reasoning_content") or delta.get("reasoning") or ""
        if not isinstance(thoughts, str):
            thoughts = ""
        if text:
            self.text.append(text)
        if thoughts:
            self.thoughts.append(thoughts)
        return text, thoughts

    @staticmethod
    def _add_call_piece(slot: dict[str, Any], call: dict[str, Any]) -> None:
        if call.get("id"):
            slot["id"] = call["id"]
        fn = call.get("function") or {}
        slot["name"] += fn.get("name") or ""
        slot["args"] += fn.get("arguments") or ""

    def tool_calls(self) -> list[dict[str, Any]]:
        return [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": parse_arguments(c["args"])},
            }
            for _, c in sorted(self.calls.items())
        ]

    def structured(self) -> dict[str, Any] | None:
        """The ``json`` answer in JSON mode (no tool calls), or None when the text is not a JSON object."""
        if not self.json_mode or self.calls:
            return None
        try:
            value = json.loads("".join(self.text))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def result(
        self, usage: dict[str, Any], model_with_provider: str | None, files_of: FilesOf | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        structured = self.structured()
        if structured is not None:
            out["json"] = structured
        elif self.text:
            out["text"] = "".join(self.text)
        if self.thoughts:
            out["thoughts"] = "".join(self.thoughts)
        if self.calls:
            out["toolCalls"] = self.tool_calls()
        if self.images and files_of is not None:
            out["files"] = files_of(self.images)
        if self.model:
            out["model"] = self.model
        out["usage"] = usage
        if model_with_provider:
            out["modelWithProvider"] = model_with_provider
        return out


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


class AigneSSE:
    """The AIGNE agent-response stream: ``data:`` chunks only (text deltas, then JSON deltas), no ``[DONE]``,
    the end is the connection closing; a failure after the start is ``event: error``.

    In JSON mode the text is collected and sent as ``json`` at the end, as the AIGNE OpenAI adapter does,
    so the client's merged output holds the object and not its source text.
    """

    def __init__(self, ctx: CallContext, json_mode: bool, usage_of: UsageOf, files_of: FilesOf) -> None:
        self.ctx = ctx
        self.usage_of = usage_of
        self.files_of = files_of
        self.out = ChatOutput(json_mode)

    def chunks(self, chunks: list[Chunk]) -> bytes:
        parts: list[bytes] = []
        for chunk in chunks:
            had_model = self.out.model is not None
            text, thoughts = self.out.add_chunk(chunk.data)
            if not had_model and self.out.model:
                parts.append(sse({"delta": {"json": {"model": self.out.model}}}))
            if thoughts:
                parts.append(sse({"delta": {"text": {"thoughts": thoughts}}}))
            if text and not self.out.json_mode:
                parts.append(sse({"delta": {"text": {"text": text}}}))
        return b"".join(parts)

    def end(self) -> bytes:
        """One final JSON delta: tool calls, the structured answer, files, the model and the full usage."""
        route = self.ctx.route
        mwp = route.model_with_provider if route else None
        final = self.out.result(self.usage_of(self.ctx), mwp, self.files_of)
        final.pop("thoughts", None)  # already streamed as text deltas
        if "text" in final and not self.out.json_mode:
            del final["text"]
        return sse({"delta": {"json": final}})

    def error(self, err: HubError) -> bytes:
        body = json.dumps({"message": err.message, "type": err.type, "code": err.code}, ensure_ascii=False)
        return b"event: error\ndata: " + body.encode() + b"\n\n"
