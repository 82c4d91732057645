"""Amazon Bedrock provider for AIGNE Hub: chat over the Converse and ConverseStream APIs.

Requests are translated to Converse (``system`` blocks, ``image`` / ``document`` blocks with bytes,
``toolUse`` / ``toolResult`` blocks, ``inferenceConfig``, ``toolConfig``, ``cachePoint``, Claude's thinking),
signed with AWS Signature Version 4 from an access-key pair and region (in `apply_credential`, once the body
is final), and answers come back as ``chat.completion`` objects. Streams arrive in AWS's binary event-stream
framing (length prelude, headers, payload, CRC32 checks), decoded into ``chat.completion.chunk`` objects.
No AWS SDK: the signer (`sigv4`) is ``hashlib`` / ``hmac``, the event-stream decoder (`eventstream`)
``zlib.crc32``.
"""

from __future__ import annotations

import binascii
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from hub_core import Credential, HubError, Provider, Route, UpstreamRequest, Usage, hookimpl
from hub_core.providers import (
    ChatRequest,
    Chunk,
    ChunkWriter,
    File,
    Image,
    Message,
    NormalizedResponse,
    Normalizer,
    Part,
    Text,
    assistant_message,
    bad_request,
    chat_completion,
    load_json_object,
    tool_call,
    upstream_auth_failed,
    upstream_message,
)
from hub_provider_bedrock.eventstream import EventStreamDecoder, EventStreamError
from hub_provider_bedrock.sigv4 import sign_request

DEFAULT_REGION = "us-east-1"
CREDENTIAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["access_key_id", "secret_access_key"],
    "properties": {
        "access_key_id": {"type": "string", "title": "Access key ID", "secret": False, "minLength": 16},
        "secret_access_key": {"type": "string", "title": "Secret access key", "secret": True, "minLength": 1},
        "region": {"type": "string", "title": "Region", "secret": False, "default": DEFAULT_REGION},
        "session_token": {"type": "string", "title": "Session token (temporary credentials)", "secret": True},
    },
}
IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
#: reasoning_effort → Claude's extended-thinking budget on Bedrock
THINKING_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384}
CACHE_POINT = {"cachePoint": {"type": "default"}}
REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
#: AWS error types (x-amzn-ErrorType) that say the signature or the key itself is refused
CREDENTIAL_ERRORS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    }
)
#: Bedrock's answers for "too much, wait": ModelNotReady is documented as one the SDKs retry
RATE_ERRORS = frozenset({"ThrottlingException", "ModelNotReadyException", "ServiceQuotaExceededException"})


# --- requests -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class BedrockRequest(UpstreamRequest):
    """An upstream request that knows the region to sign for (the base URL may be a proxy or a test fake)."""

    region: str = DEFAULT_REGION


def image_block(image: Image) -> dict[str, Any]:
    if image.inline is None:
        raise bad_request(
            "Bedrock takes images inline only: send them as data: URLs (base64)", param=image.where
        )
    fmt = IMAGE_FORMATS.get(image.inline.mime)
    if fmt is None:
        raise bad_request(
            f"Bedrock takes png, jpeg, gif or webp images, not {image.inline.mime}", param=image.where
        )
    return {"image": {"format": fmt, "source": {"bytes": image.inline.data}}}


def document_block(file: File, number: int) -> dict[str, Any]:
    """An OpenAI ``file`` part (a data URL) → a document block (Bedrock allows few characters in names)."""
    if file.inline is None:
        raise bad_request(
            "Bedrock takes files inline only, as data: URLs in file.file_data", param=file.where
        )
    fmt = DOCUMENT_FORMATS.get(file.inline.mime)
    if fmt is None:
        raise bad_request(f"Bedrock does not take {file.inline.mime} documents", param=file.where)
    stem = (file.filename or "").rsplit(".", 1)[0]
    name = " ".join(re.sub(r"[^A-Za-z0-9\s\-()\[\]]", " ", stem).split())[:200] or f"document {number}"
    return {"document": {"format": fmt, "name": name, "source": {"bytes": file.inline.data}}}


def content_blocks(parts: list[Part]) -> list[dict[str, Any]]:
    """User (or system, or assistant text) content as Converse blocks; ``cache_control`` on a part becomes a
    ``cachePoint`` right after it (Bedrock caches the prefix up to each point)."""
    blocks: list[dict[str, Any]] = []
    documents = 0
    for part in parts:
        if isinstance(part, Image):
            blocks.append(image_block(part))
        elif isinstance(part, File):
            documents += 1
            blocks.append(document_block(part, documents))
        elif isinstance(part, Text):
            blocks.append({"text": part.text})
        else:
            continue
        if part.cache_control:
            blocks.append(dict(CACHE_POINT))
    return blocks


def reasoning_blocks(msg: Message) -> list[dict[str, Any]]:
    """Signed thinking from an earlier answer (the ``thinking`` extension), which Claude needs back unchanged
    when the turn continues with tool results."""
    blocks: list[dict[str, Any]] = []
    for tb in msg.raw.get("thinking_blocks") or []:
        if not isinstance(tb, dict):
            continue
        if tb.get("type") == "thinking" and tb.get("signature"):
            text = {"text": str(tb.get("thinking") or ""), "signature": str(tb["signature"])}
            blocks.append({"reasoningContent": {"reasoningText": text}})
        elif tb.get("type") == "redacted_thinking" and tb.get("data"):
            blocks.append({"reasoningContent": {"redactedContent": str(tb["data"])}})
    return blocks


def assistant_blocks(msg: Message) -> list[dict[str, Any]]:
    blocks = reasoning_blocks(msg)
    blocks.extend(content_blocks([p for p in msg.parts if isinstance(p, Text)]))
    blocks.extend(
        {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}}
        for call in msg.tool_calls
    )
    return blocks


def tool_result_block(msg: Message) -> dict[str, Any]:
    """A tool message; a JSON object result travels as ``json``, anything else as text."""
    value = msg.json_object
    content = [{"json": value}] if value is not None else [{"text": msg.text or " "}]
    result: dict[str, Any] = {"toolUseId": msg.tool_call_id or "", "content": content}
    if msg.raw.get("is_error"):
        result["status"] = "error"
    return {"toolResult": result}


def converse_messages(messages: list[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system, messages) for Converse; consecutive turns of one role are merged (Converse alternates)."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "system":
            system.extend(b for b in content_blocks(msg.parts) if "text" in b or "cachePoint" in b)
            continue
        if msg.role == "assistant":
            role, blocks = "assistant", assistant_blocks(msg)
        elif msg.role == "tool":
            role, blocks = "user", [tool_result_block(msg)]
        else:
            role, blocks = "user", content_blocks(msg.parts)
        if not blocks:
            continue
        if msg.cache_control:
            blocks.append(dict(CACHE_POINT))
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return system, out


def tool_config(request: ChatRequest, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    tools: list[dict[str, Any]] = []
    for tool in request.tools:
        spec = {
            "name": tool.name,
            "description": tool.description or tool.name,
            "inputSchema": {"json": tool.parameters or {"type": "object", "properties": {}}},
        }
        tools.append({"toolSpec": spec})
        if tool.cache_control:
            tools.append(dict(CACHE_POINT))
    if not tools:
        return None
    choice = request.tool_choice
    uses_tools = any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])
    if choice is not None and choice.mode == "none" and not uses_tools:
        return None  # Converse cannot forbid tool use; not offering tools is the closest thing
    config: dict[str, Any] = {"tools": tools}
    if choice is not None and choice.mode == "required":
        config["toolChoice"] = {"any": {}}
    elif choice is not None and choice.mode == "function":
        config["toolChoice"] = {"tool": {"name": choice.name}}
    return config


def model_family(model: str) -> str:
    """``anthropic`` / ``nova`` / ``other`` from a model id, inference-profile id or ARN."""
    lowered = model.lower()
    if "anthropic." in lowered or "claude" in lowered:
        return "anthropic"
    if "amazon.nova" in lowered:
        return "nova"
    return "other"


def model_fields(payload: dict[str, Any], model: str, inference: dict[str, Any]) -> dict[str, Any]:
    """``additionalModelRequestFields``: what Converse has no field for, in the model family's own words."""
    extra = dict(payload.get("additionalModelRequestFields") or {})
    family = model_family(model)
    effort = payload.get("reasoning_effort")
    thinking = payload.get("thinking")  # Anthropic's own object (the /v1/messages ``thinking`` extension)
    top_k = payload.get("top_k")
    if family == "anthropic":
        if isinstance(thinking, dict):
            extra.setdefault("thinking", thinking)
        elif effort in THINKING_BUDGETS:
            extra.setdefault("thinking", {"type": "enabled", "budget_tokens": THINKING_BUDGETS[effort]})
        budget = (extra.get("thinking") or {}).get("budget_tokens")
        if isinstance(budget, int) and "maxTokens" not in inference:
            inference["maxTokens"] = budget + 4096  # Claude needs room for the answer beyond the budget
        if isinstance(top_k, int):
            extra.setdefault("top_k", top_k)
    elif family == "nova":
        if effort in THINKING_BUDGETS and "nova-2" in model.lower():
            extra.setdefault("reasoningConfig", {"type": "enabled", "maxReasoningEffort": effort})
        if isinstance(top_k, int):
            extra.setdefault("inferenceConfig", {}).setdefault("topK", top_k)
    return extra


def converse_body(payload: dict[str, Any], model: str) -> dict[str, Any]:
    request = ChatRequest.parse(payload)
    system, messages = converse_messages(request.messages)
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
    inference: dict[str, Any] = {}
    if request.max_tokens is not None:
        inference["maxTokens"] = request.max_tokens
    if (temperature := request.number("temperature")) is not None:
        inference["temperature"] = temperature
    if (top_p := request.number("top_p")) is not None:
        inference["topP"] = top_p
    if request.stop:
        inference["stopSequences"] = request.stop
    if extra := model_fields(payload, model, inference):
        body["additionalModelRequestFields"] = extra
    if inference:
        body["inferenceConfig"] = inference
    if config := tool_config(request, messages):
        body["toolConfig"] = config
    return body


# --- answers ------------------------------------------------------------------------------------------------


def usage_of(data: dict[str, Any] | None) -> Usage:
    """Converse counts cache reads and writes apart from ``inputTokens``; the standard prompt has them."""
    data = data or {}
    read = int(data.get("cacheReadInputTokens") or 0)
    write = int(data.get("cacheWriteInputTokens") or 0)
    return Usage(
        input_tokens=int(data.get("inputTokens") or 0) + read + write,
        output_tokens=int(data.get("outputTokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=write,
    )


def finish_reason_of(stop_reason: str | None) -> str:
    return FINISH_REASONS.get(str(stop_reason), "stop")


def thinking_block_of(reasoning: dict[str, Any]) -> dict[str, Any] | None:
    """A Converse ``reasoningContent`` → the standard ``thinking_blocks`` entry (signed or redacted)."""
    if reasoning.get("redactedContent"):
        return {"type": "redacted_thinking", "data": str(reasoning["redactedContent"])}
    text = reasoning.get("reasoningText") or {}
    if text.get("signature"):
        return {
            "type": "thinking",
            "thinking": str(text.get("text") or ""),
            "signature": str(text["signature"]),
        }
    return None


def completion_of(data: dict[str, Any], model: str, usage: Usage) -> dict[str, Any]:
    blocks = ((data.get("output") or {}).get("message") or {}).get("content") or []
    texts: list[str] = []
    reasoning: list[str] = []
    thinking: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for block in blocks:
        if "text" in block:
            texts.append(str(block["text"]))
        elif "toolUse" in block:
            use = block["toolUse"] or {}
            calls.append(tool_call(str(use.get("toolUseId")), use.get("name", ""), use.get("input") or {}))
        elif "reasoningContent" in block:
            content = block["reasoningContent"] or {}
            reasoning.append(str((content.get("reasoningText") or {}).get("text") or ""))
            if (tb := thinking_block_of(content)) is not None:
                thinking.append(tb)
    message = assistant_message("".join(texts), calls, "".join(reasoning) or None)
    if thinking:
        message["thinking_blocks"] = thinking
    choice = {"message": message, "finish_reason": finish_reason_of(data.get("stopReason"))}
    return chat_completion(model, [choice], usage)


def stream_exception(kind: str, payload: bytes) -> HubError:
    """An exception message inside a ConverseStream (after the HTTP 200)."""
    message = upstream_message(payload) or kind
    if kind[:1].upper() + kind[1:] in RATE_ERRORS:
        return HubError(429, "rate_limited", f"Amazon Bedrock rate limit: {message}")
    if kind == "validationException":
        return HubError(400, "upstream_bad_request", f"Amazon Bedrock: {message}")
    return HubError(
        502,
        "upstream_error",
        f"Amazon Bedrock error during stream ({kind}): {message}",
        type="upstream_error",
    )


def malformed(detail: str) -> HubError:
    return HubError(
        502,
        "upstream_malformed",
        f"Amazon Bedrock sent a broken event stream: {detail}",
        type="upstream_error",
    )


class ConverseNormalizer(Normalizer):
    """Converse JSON → ``chat.completion``; ConverseStream events → ``chat.completion.chunk`` objects."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self._decoder = EventStreamDecoder()
        self._writer = ChunkWriter(model)
        self._tools: dict[int, int] = {}  # contentBlockIndex → tool call position

    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Amazon Bedrock")
        if not isinstance((data.get("output") or {}).get("message"), dict):
            raise HubError(
                502, "upstream_malformed", "Amazon Bedrock sent no output message", type="upstream_error"
            )
        self.usage, self.saw_usage = usage_of(data.get("usage")), True
        return NormalizedResponse(completion_of(data, self.model, self.usage), self.usage)

    def feed(self, data: bytes) -> list[Chunk]:
        out: list[Chunk] = []
        try:
            for headers, payload in self._decoder.feed(data):
                out.extend(self._chunks_of(headers, payload))
        except (HubError, EventStreamError, binascii.Error) as exc:
            error = exc if isinstance(exc, HubError) else malformed(str(exc))
            if not out:
                raise error from exc
            self.pending_error = error
        return out

    def finish(self) -> list[Chunk]:
        if self._decoder.pending:
            raise HubError(
                502, "upstream_broken", "Amazon Bedrock stream ended inside an event", type="upstream_error"
            )
        return []

    def _chunks_of(self, headers: dict[str, Any], payload: bytes) -> list[Chunk]:
        kind = headers.get(":message-type", "event")
        if kind == "exception":
            raise stream_exception(str(headers.get(":exception-type") or "exception"), payload)
        if kind == "error":
            message = headers.get(":error-message") or headers.get(":error-code") or "unknown error"
            raise HubError(
                502, "upstream_error", f"Amazon Bedrock error during stream: {message}", type="upstream_error"
            )
        event = headers.get(":event-type")
        handler = self._handlers.get(str(event))
        if handler is None:
            return []  # messageStart, contentBlockStop and events newer than this plugin: nothing to send
        data = load_json_object(payload, "Amazon Bedrock") if payload else {}
        return handler(self, data)

    def _block_start(self, data: dict[str, Any]) -> list[Chunk]:
        use = (data.get("start") or {}).get("toolUse")
        if not use:
            return []
        position = self._tools[int(data.get("contentBlockIndex") or 0)] = len(self._tools)
        return [self._writer.tool_call_start(position, str(use.get("toolUseId")), use.get("name", ""))]

    def _block_delta(self, data: dict[str, Any]) -> list[Chunk]:
        delta, w = data.get("delta") or {}, self._writer
        if "text" in delta:
            return [w.text(delta["text"])] if delta["text"] else []
        if "toolUse" in delta:
            position = self._tools.get(int(data.get("contentBlockIndex") or 0), 0)
            return [w.tool_call_arguments(position, str((delta["toolUse"] or {}).get("input", "")))]
        reasoning = delta.get("reasoningContent") or {}
        if reasoning.get("text"):
            return [w.reasoning(reasoning["text"])]
        if reasoning.get("signature"):
            block = {"type": "thinking", "thinking": "", "signature": reasoning["signature"]}
            return [w.delta({"thinking_blocks": [block]})]
        if reasoning.get("redactedContent"):
            block = {"type": "redacted_thinking", "data": reasoning["redactedContent"]}
            return [w.delta({"thinking_blocks": [block]})]
        return []

    def _message_stop(self, data: dict[str, Any]) -> list[Chunk]:
        return [self._writer.finish(finish_reason_of(data.get("stopReason")))]

    def _metadata(self, data: dict[str, Any]) -> list[Chunk]:
        self.usage, self.saw_usage = usage_of(data.get("usage")), True
        return [self._writer.usage(self.usage)]

    _handlers: ClassVar[dict[str, Callable[[ConverseNormalizer, dict[str, Any]], list[Chunk]]]] = {
        "contentBlockStart": _block_start,
        "contentBlockDelta": _block_delta,
        "messageStop": _message_stop,
        "metadata": _metadata,
    }


# --- errors ---------------------------------------------------------------------------------------------


def error_type(body: bytes, headers: dict[str, str]) -> str:
    """``x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/...`` (or ``__type`` in the body)
    → ``ThrottlingException``."""
    raw = next((v for k, v in headers.items() if k.lower() == "x-amzn-errortype"), "")
    if not raw:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        raw = str(data.get("__type") or "") if isinstance(data, dict) else ""
    return raw.split(":", 1)[0].rsplit("#", 1)[-1]


def error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("Message"), str) and "message" not in data:
        return str(data["Message"])[:1000]
    return upstream_message(body)


# --- the provider -------------------------------------------------------------------------------------------


def region_from_url(url: str) -> str | None:
    """The region an AWS endpoint names: ``bedrock-runtime.eu-west-1.amazonaws.com``, a FIPS endpoint or a VPC
    endpoint (``vpce-x.bedrock-runtime.eu-west-1.vpce.amazonaws.com``)."""
    host = urlsplit(url).hostname or ""
    if not host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return None
    labels = host.split(".")
    for label, following in itertools.pairwise(labels):
        if label.startswith("bedrock-runtime") and REGION_RE.fullmatch(following):
            return following
    return None


class BedrockProvider(Provider):
    name = "bedrock"
    display_name = "Amazon Bedrock"
    default_base_url = "https://bedrock-runtime.{region}.amazonaws.com"
    capabilities = frozenset({"chat"})
    credential_schema = CREDENTIAL_SCHEMA
    env_credentials = {
        "access_key_id": "AWS_ACCESS_KEY_ID",
        "secret_access_key": "AWS_SECRET_ACCESS_KEY",
        "region": "AWS_REGION",
        "session_token": "AWS_SESSION_TOKEN",
    }
    test_model = "us.amazon.nova-lite-v1:0"
    known_models = {
        "chat": (
            "us.amazon.nova-lite-v1:0",
            "us.amazon.nova-pro-v1:0",
            "us.amazon.nova-micro-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "us.meta.llama3-3-70b-instruct-v1:0",
            "mistral.mistral-large-2402-v1:0",
        )
    }
    #: fields beyond OpenAI's chat format this provider reads (see docs/anthropic-api.md)
    standard_extensions: ClassVar[frozenset[str]] = frozenset({"cache_control", "thinking", "top_k"})

    @staticmethod
    def region_of(route: Route) -> str:
        """A concrete AWS endpoint's own region, else the credential's, the provider record's, the default."""
        named = region_from_url(route.base_url) if "{region}" not in route.base_url else None
        values = route.credential.values if route.credential else {}
        return (
            named
            or values.get("region")
            or route.region
            or str((route.config or {}).get("region") or "")
            or DEFAULT_REGION
        )

    def build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        region = self.region_of(route)
        base = route.base_url.rstrip("/").replace("{region}", region)
        # model ids hold ':' and inference-profile ARNs a '/': one escaped path segment
        url = f"{base}/model/{quote(route.model, safe='')}/{'converse-stream' if stream else 'converse'}"
        headers = {"Content-Type": "application/json"}
        if stream:
            headers["Accept"] = "application/vnd.amazon.eventstream"
        body = converse_body(payload, route.model)
        return BedrockRequest("POST", url, headers=headers, json=body, region=region)

    def apply_credential(self, upstream: UpstreamRequest, credential: Credential | None) -> None:
        if credential is None or not credential.values.get("secret_access_key"):
            raise HubError(
                503,
                "no_active_credential",
                "Amazon Bedrock needs an access key id and a secret access key",
            )
        if isinstance(upstream, BedrockRequest):
            region = upstream.region
        else:  # a request built elsewhere: the URL's region, else the key's
            region = region_from_url(upstream.url) or credential.values.get("region") or DEFAULT_REGION
        sign_request(upstream, credential, region)

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        if kind == "chat":
            return ConverseNormalizer(route.model)
        return super().normalizer(kind, stream, route, payload)

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        kind = error_type(body, headers)
        message = error_message(body) or kind or f"HTTP {status}"
        label = self.display_name
        detail = f"{message} ({kind})" if kind else message
        if kind in CREDENTIAL_ERRORS:
            return upstream_auth_failed(label, detail, status)
        if kind == "AccessDeniedException":
            # The key is valid but may not call this model (model access not granted, IAM policy): refusing
            # the model, not the key, so routing tries elsewhere instead of disabling the credential.
            return HubError(
                403,
                "model_access_denied",
                f"{label} refused this model to the hub's key: {detail}",
                extra={"upstream_status": 404, "upstream_error_type": kind},
            )
        if kind in RATE_ERRORS or status == 429:
            out = {"Retry-After": headers["Retry-After"]} if "Retry-After" in headers else {}
            return HubError(429, "rate_limited", f"{label} rate limit: {detail}", headers=out)
        if kind == "ModelTimeoutException" or status == 408:
            return HubError(
                504, "upstream_timeout", f"{label} model timed out: {detail}", type="upstream_error"
            )
        if kind == "ModelErrorException" or status == 424:
            return HubError(
                502,
                "upstream_error",
                f"{label} model failed to answer: {detail}",
                type="upstream_error",
                extra={"upstream_status": 502},
            )
        return super().map_error(status, json.dumps({"message": detail}).encode(), headers)


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(BedrockProvider())
