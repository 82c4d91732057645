"""Ollama provider for AIGNE Hub: chat over Ollama's native ``/api/chat`` (NDJSON streams) and ``/api/embed``.

Requests are translated from the hub's standard (OpenAI) shape to Ollama's: images become base64 strings on
the message, tool calls carry argument objects, tool results name their tool, sampling parameters go into
``options``, ``response_format`` becomes ``format`` and ``reasoning_effort`` becomes ``think``. Answers come
back as ``chat.completion`` objects and chunks, with usage from ``prompt_eval_count`` / ``eval_count`` and the
model's ``thinking`` as ``reasoning_content``. No credential is needed for a local Ollama; an optional API key
is sent as a Bearer token (ollama.com or an authenticating proxy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from hub_core import HubError, Provider, Route, UpstreamRequest, Usage, hookimpl
from hub_core.providers import (
    ChatRequest,
    Chunk,
    ChunkWriter,
    Image,
    Message,
    NormalizedResponse,
    Normalizer,
    ToolChoice,
    assistant_message,
    bad_request,
    chat_completion,
    embeddings_response,
    encoding_format,
    load_json_object,
    new_id,
    tool_call,
)

CREDENTIAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [],
    "properties": {
        "api_key": {
            "type": "string",
            "title": "API key (only for ollama.com or an authenticating proxy)",
            "secret": True,
        }
    },
}

#: OpenAI sampling parameters and their Ollama ``options`` names
OPTION_NAMES = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
FINISH_REASONS = {"stop": "stop", "length": "length", "load": "stop", "unload": "stop"}


def api_url(route: Route, path: str) -> str:
    """``http://host:11434`` and ``http://host:11434/api`` both work as the base URL."""
    base = route.base_url.rstrip("/")
    if urlparse(base).path in ("", "/"):
        base += "/api"
    return base + path


# --- requests ----------------------------------------------------------------------------------------------


def ollama_messages(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in messages:
        item: dict[str, Any] = {"role": msg.role, "content": msg.text}
        if msg.role == "user" and (images := [inline_image(image) for image in msg.images]):
            item["images"] = images
        elif msg.role == "assistant" and msg.tool_calls:
            item["tool_calls"] = [
                {"function": {"name": call.name, "arguments": call.arguments}} for call in msg.tool_calls
            ]
        elif msg.role == "tool" and msg.tool_name:
            item["tool_name"] = msg.tool_name
        out.append(item)
    return out


def inline_image(image: Image) -> str:
    if image.inline is None:
        raise bad_request(
            "Ollama takes images inline only: send them as data: URLs (base64)", param=image.where
        )
    return image.inline.data


def chat_body(payload: dict[str, Any], model: str, stream: bool) -> dict[str, Any]:
    request = ChatRequest.parse(payload)
    body: dict[str, Any] = {"model": model, "messages": ollama_messages(request.messages), "stream": stream}
    options = {OPTION_NAMES[k]: v for k, v in payload.items() if k in OPTION_NAMES and v is not None}
    if request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    if request.stop:
        options["stop"] = request.stop
    if isinstance(payload.get("options"), dict):  # Ollama's own options (num_ctx ...) win
        options.update(payload["options"])
    if options:
        body["options"] = options
    if request.tools and request.tool_choice != ToolChoice("none"):
        body["tools"] = payload["tools"]  # Ollama takes OpenAI's tool objects as they are
    if (fmt := request.response_format) is not None:
        body["format"] = fmt.schema or "json"
    effort = payload.get("reasoning_effort")
    if "think" in payload:
        body["think"] = payload["think"]
    elif effort:
        body["think"] = effort if effort in ("low", "medium", "high") else effort not in ("none", "minimal")
    if "keep_alive" in payload:
        body["keep_alive"] = payload["keep_alive"]
    return body


# --- answers -----------------------------------------------------------------------------------------------


def usage_of(data: dict[str, Any]) -> Usage:
    # prompt_eval_count is left out when the whole prompt came from Ollama's cache
    return Usage(
        input_tokens=int(data.get("prompt_eval_count") or 0), output_tokens=int(data.get("eval_count") or 0)
    )


def tool_calls_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    calls = []
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        calls.append(
            tool_call(str(call.get("id") or new_id("call")), fn.get("name", ""), fn.get("arguments") or {})
        )
    return calls


def finish_reason_of(data: dict[str, Any], saw_tool_calls: bool) -> str:
    if saw_tool_calls:
        return "tool_calls"
    return FINISH_REASONS.get(str(data.get("done_reason") or "stop"), "stop")


def stream_error(message: str) -> HubError:
    return HubError(502, "upstream_error", f"Ollama error during stream: {message}", type="upstream_error")


class OllamaChatNormalizer(Normalizer):
    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self._buf = bytearray()
        self._writer = ChunkWriter(model)
        self._tool_calls = 0

    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Ollama")
        if data.get("error"):
            raise HubError(502, "upstream_error", f"Ollama error: {data['error']}", type="upstream_error")
        message = data.get("message") or {}
        calls = tool_calls_of(message)
        reply = assistant_message(message.get("content") or "", calls, message.get("thinking"))
        self.usage, self.saw_usage = usage_of(data), True
        finish = finish_reason_of(data, bool(calls))
        return NormalizedResponse(
            chat_completion(self.model, [{"message": reply, "finish_reason": finish}], self.usage), self.usage
        )

    def feed(self, data: bytes) -> list[Chunk]:
        if data.find(b"\n") < 0:
            self._buf += data  # a line not ended yet: kept, not split again (a long line costs linear time)
            return []
        lines = (bytes(self._buf) + data if self._buf else data).split(b"\n")
        self._buf = bytearray(lines.pop())
        return self._lines(lines)

    def finish(self) -> list[Chunk]:
        rest, self._buf = bytes(self._buf), bytearray()
        return self._lines([rest])

    def _lines(self, lines: list[bytes]) -> list[Chunk]:
        out: list[Chunk] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                data = load_json_object(line, "Ollama")
                out.extend(self._chunks_of(data))
            except HubError as exc:
                if not out:
                    raise
                self.pending_error = exc  # deliver what came before the failure first
                break
        return out

    def _chunks_of(self, data: dict[str, Any]) -> list[Chunk]:
        if data.get("error"):
            raise stream_error(str(data["error"]))
        w, out = self._writer, []
        message = data.get("message") or {}
        if message.get("thinking"):
            out.append(w.reasoning(message["thinking"]))
        if message.get("content"):
            out.append(w.text(message["content"]))
        for call in tool_calls_of(message):
            fn = call["function"]
            out.append(w.tool_call(self._tool_calls, call["id"], fn["name"], fn["arguments"]))
            self._tool_calls += 1
        if data.get("done"):
            self.usage, self.saw_usage = usage_of(data), True
            out.append(w.finish(finish_reason_of(data, self._tool_calls > 0)))
            out.append(w.usage(self.usage))
        return out


class OllamaEmbeddingNormalizer(Normalizer):
    def __init__(self, model: str, encoding_format: str | None) -> None:
        super().__init__()
        self.model = model
        self.encoding_format = encoding_format

    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Ollama")
        vectors = data.get("embeddings")
        if not isinstance(vectors, list):
            raise HubError(502, "upstream_malformed", "Ollama sent no embeddings", type="upstream_error")
        self.usage, self.saw_usage = Usage(input_tokens=int(data.get("prompt_eval_count") or 0)), True
        return NormalizedResponse(
            embeddings_response(self.model, vectors, self.usage, self.encoding_format), self.usage
        )


class OllamaProvider(Provider):
    name = "ollama"
    display_name = "Ollama"
    default_base_url = "http://localhost:11434/api"
    capabilities = frozenset({"chat", "embedding"})
    credential_schema = CREDENTIAL_SCHEMA
    env_credentials = {"api_key": "OLLAMA_API_KEY"}
    env_base_url = "OLLAMA_BASE_URL"
    test_model = "llama3.2"
    known_models = {
        "chat": ("llama3.2", "llama3.1", "qwen3", "gemma3", "deepseek-r1", "gpt-oss", "mistral"),
        "embedding": ("nomic-embed-text", "mxbai-embed-large", "all-minilm"),
    }

    def _request(self, route: Route, path: str, body: dict[str, Any]) -> UpstreamRequest:
        return UpstreamRequest(
            "POST", api_url(route, path), headers={"Content-Type": "application/json"}, json=body
        )

    def build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        return self._request(route, "/chat", chat_body(payload, route.model, stream))

    def build_embedding(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        inputs = payload.get("input")
        if isinstance(inputs, list) and inputs and not all(isinstance(x, str) for x in inputs):
            raise bad_request(
                "Ollama embeds text only: input must be a string or an array of strings", param="input"
            )
        body: dict[str, Any] = {"model": route.model, "input": inputs}
        if payload.get("dimensions"):
            body["dimensions"] = payload["dimensions"]
        return self._request(route, "/embed", body)

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        if kind == "chat":
            return OllamaChatNormalizer(route.model)
        if kind == "embedding":
            return OllamaEmbeddingNormalizer(route.model, encoding_format(payload))
        return super().normalizer(kind, stream, route, payload)

    def models_request(self, route: Route) -> UpstreamRequest:
        return UpstreamRequest("GET", api_url(route, "/tags"))

    def parse_models(self, body: bytes) -> list[str]:
        data = load_json_object(body, "Ollama")
        return sorted(
            str(m.get("model") or m.get("name")) for m in data.get("models") or [] if isinstance(m, dict)
        )


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(OllamaProvider())
