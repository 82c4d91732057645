"""Amazon Bedrock provider for AIGNE Hub: chat over the Converse and ConverseStream APIs.

Requests are translated to Converse (``system`` blocks, ``image`` blocks with bytes, ``toolUse`` /
``toolResult`` blocks, ``inferenceConfig``, ``toolConfig``), signed with AWS Signature Version 4 from an
access-key pair and region (signing happens in `apply_credential`, after the body is final), and answers come
back as ``chat.completion`` objects. Streams arrive in AWS's binary event-stream framing (length prelude,
headers, payload, CRC32 checks), decoded here and turned into ``chat.completion.chunk`` objects.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from yarl import URL

from hub_core import Credential, HubError, Provider, Route, UpstreamRequest, Usage, hookimpl
from hub_core.errors import bad_request
from hub_core.providers.base import Chunk, NormalizedResponse, Normalizer
from hub_core.providers.translate import (
    ChunkWriter,
    assistant_message,
    chat_completion,
    content_parts,
    image_url_of,
    load_json_object,
    max_tokens_of,
    parse_data_url,
    stop_list,
    text_of,
    tool_arguments,
    tool_call,
    upstream_message,
)

SERVICE = "bedrock"
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


# --- AWS Signature Version 4 --------------------------------------------------------------------------------


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def uri_encode(value: str) -> str:
    """RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, ``~`` kept."""
    return quote(value, safe="-_.~")


def canonical_uri(raw_path: str) -> str:
    """Each segment of the path as sent, encoded once more (SigV4 for every service but S3)."""
    return "/".join(uri_encode(segment) for segment in (raw_path or "/").split("/"))


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in sorted(params.items()))


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def sigv4_signature(
    *,
    method: str,
    raw_path: str,
    query: dict[str, str],
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
    secret: str,
    amz_date: str,
    region: str,
    service: str,
) -> str:
    """The hex signature of a request (shared by the signer here and by verifiers such as the test fake)."""
    lowered = {k.lower(): " ".join(str(v).strip().split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in signed_headers)
    canonical_request = "\n".join(
        [
            method,
            canonical_uri(raw_path),
            canonical_query(query),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    return hmac.new(
        signing_key(secret, amz_date[:8], region, service), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()


def sign_request(
    upstream: UpstreamRequest, credential: Credential, region: str, now: datetime | None = None
) -> None:
    """Sign in place: serialize the body, then add ``Host``, ``X-Amz-Date``, ``X-Amz-Content-Sha256`` (and the
    session token) and the ``Authorization`` header over exactly the bytes and path that will be sent."""
    if upstream.body is None and upstream.json is not None:
        upstream.body = json.dumps(upstream.json, separators=(",", ":"), ensure_ascii=False).encode()
        upstream.json = None
    body = upstream.body or b""
    amz_date = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = upstream.headers
    headers["Host"] = urlsplit(upstream.url).netloc
    headers["X-Amz-Date"] = amz_date
    headers["X-Amz-Content-Sha256"] = payload_hash
    token = credential.values.get("session_token")
    if token:
        headers["X-Amz-Security-Token"] = token
    signed = sorted(
        {k.lower() for k in headers}
        & {"host", "content-type", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
    )
    signature = sigv4_signature(
        method=upstream.method,
        # the path as aiohttp will put it on the wire (yarl normalizes percent-escapes it may decode)
        raw_path=URL(upstream.url).raw_path,
        query=upstream.params,
        headers=headers,
        signed_headers=signed,
        payload_hash=payload_hash,
        secret=credential.values["secret_access_key"],
        amz_date=amz_date,
        region=region,
        service=SERVICE,
    )
    scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential.values['access_key_id']}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )


# --- AWS event-stream framing -------------------------------------------------------------------------------


class EventStreamError(ValueError):
    pass


def _header_value(data: bytes, pos: int, kind: int) -> tuple[Any, int]:
    fixed = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
    if kind in (0, 1):
        return kind == 0, pos
    if kind in fixed:
        size = fixed[kind]
        raw = data[pos : pos + size]
        return (raw.hex() if kind == 9 else int.from_bytes(raw, "big", signed=True)), pos + size
    if kind in (6, 7):
        length = int.from_bytes(data[pos : pos + 2], "big")
        raw = data[pos + 2 : pos + 2 + length]
        return (raw.decode() if kind == 7 else raw), pos + 2 + length
    raise EventStreamError(f"unknown header value type {kind}")


def parse_headers(data: bytes) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    pos = 0
    while pos < len(data):
        name_len = data[pos]
        name = data[pos + 1 : pos + 1 + name_len].decode()
        pos += 1 + name_len
        value, pos = _header_value(data, pos + 1, data[pos])
        headers[name] = value
    return headers


class EventStreamDecoder:
    """Splits bytes into ``(headers, payload)`` messages: 12-byte prelude (total length, headers length, CRC32
    of those 8 bytes), headers, payload, and a CRC32 of everything before it."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
        self._buf += data
        while len(self._buf) >= 12:
            total = int.from_bytes(self._buf[0:4], "big")
            headers_len = int.from_bytes(self._buf[4:8], "big")
            if total < 16 or headers_len > total - 16:
                raise EventStreamError("event-stream message with impossible lengths")
            if zlib.crc32(self._buf[0:8]) != int.from_bytes(self._buf[8:12], "big"):
                raise EventStreamError("event-stream prelude CRC mismatch")
            if len(self._buf) < total:
                return
            message, self._buf = self._buf[:total], self._buf[total:]
            if zlib.crc32(message[:-4]) != int.from_bytes(message[-4:], "big"):
                raise EventStreamError("event-stream message CRC mismatch")
            yield parse_headers(message[12 : 12 + headers_len]), message[12 + headers_len : -4]

    @property
    def leftover(self) -> int:
        return len(self._buf)


def encode_event(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers (what the test fake sends)."""
    raw_headers = b""
    for name, value in headers.items():
        encoded = value.encode()
        raw_headers += (
            bytes([len(name)]) + name.encode() + b"\x07" + len(encoded).to_bytes(2, "big") + encoded
        )
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(raw_headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + raw_headers + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


# --- requests -----------------------------------------------------------------------------------------------


def image_block(url: str) -> dict[str, Any]:
    inline = parse_data_url(url)
    if inline is None:
        raise bad_request("Bedrock takes images inline only: send them as data: URLs (base64)")
    mime, data = inline
    fmt = IMAGE_FORMATS.get(mime)
    if fmt is None:
        raise bad_request(f"Bedrock takes png, jpeg, gif or webp images, not {mime}")
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def user_blocks(content: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in content_parts(content):
        url = image_url_of(part)
        if url is not None:
            blocks.append(image_block(url))
        elif part.get("type") == "text" and part.get("text"):
            blocks.append({"text": part["text"]})
    return blocks


def tool_result_block(msg: dict[str, Any]) -> dict[str, Any]:
    text = text_of(msg.get("content"))
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    content = [{"json": value}] if isinstance(value, dict) else [{"text": text or " "}]
    return {"toolResult": {"toolUseId": str(msg.get("tool_call_id") or ""), "content": content}}


def converse_messages(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system, messages) for Converse; consecutive turns of one role are merged (Converse alternates)."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            if text := text_of(msg.get("content")):
                system.append({"text": text})
        elif role == "user":
            add("user", user_blocks(msg.get("content")))
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            if text := text_of(msg.get("content")):
                blocks.append({"text": text})
            for call in msg.get("tool_calls") or []:
                name = (call.get("function") or {}).get("name", "")
                blocks.append(
                    {
                        "toolUse": {
                            "toolUseId": str(call.get("id") or ""),
                            "name": name,
                            "input": tool_arguments(call),
                        }
                    }
                )
            add("assistant", blocks)
        elif role in ("tool", "function"):
            add("user", [tool_result_block(msg)])
    return system, out


def tool_config(payload: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    tools = []
    for tool in payload.get("tools") or []:
        fn = tool.get("function") if tool.get("type") == "function" else None
        if fn:
            schema = fn.get("parameters") or {"type": "object", "properties": {}}
            spec = {
                "name": fn.get("name", ""),
                "description": fn.get("description") or fn.get("name", ""),
                "inputSchema": {"json": schema},
            }
            tools.append({"toolSpec": spec})
    if not tools:
        return None
    choice = payload.get("tool_choice")
    uses_tools = any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])
    if choice == "none" and not uses_tools:
        return None  # Converse cannot forbid tool use; not offering tools is the closest thing
    config: dict[str, Any] = {"tools": tools}
    if choice == "required":
        config["toolChoice"] = {"any": {}}
    elif isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        config["toolChoice"] = {"tool": {"name": choice["function"]["name"]}}
    return config


def converse_body(payload: dict[str, Any], model: str) -> dict[str, Any]:
    system, messages = converse_messages(payload.get("messages") or [])
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
    inference: dict[str, Any] = {}
    if (limit := max_tokens_of(payload)) is not None:
        inference["maxTokens"] = limit
    if payload.get("temperature") is not None:
        inference["temperature"] = payload["temperature"]
    if payload.get("top_p") is not None:
        inference["topP"] = payload["top_p"]
    if stops := stop_list(payload):
        inference["stopSequences"] = stops
    if inference:
        body["inferenceConfig"] = inference
    if config := tool_config(payload, messages):
        body["toolConfig"] = config
    extra = dict(payload.get("additionalModelRequestFields") or {})
    effort = payload.get("reasoning_effort")
    if effort in THINKING_BUDGETS and ("anthropic" in model or "claude" in model):
        extra.setdefault("thinking", {"type": "enabled", "budget_tokens": THINKING_BUDGETS[effort]})
    if extra:
        body["additionalModelRequestFields"] = extra
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


def exception_error(kind: str, payload: bytes) -> HubError:
    message = upstream_message(payload) or kind
    if kind == "throttlingException":
        return HubError(429, "rate_limited", f"Bedrock rate limit: {message}")
    return HubError(
        502, "upstream_error", f"Bedrock error during stream ({kind}): {message}", type="upstream_error"
    )


class ConverseNormalizer(Normalizer):
    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self._decoder = EventStreamDecoder()
        self._writer = ChunkWriter(model)
        self._blocks: dict[int, int] = {}  # contentBlockIndex → tool call position
        self._saw_tool_calls = False

    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Bedrock")
        blocks = ((data.get("output") or {}).get("message") or {}).get("content") or []
        texts, reasoning, calls = [], [], []
        for block in blocks:
            if "text" in block:
                texts.append(block["text"])
            elif "toolUse" in block:
                use = block["toolUse"]
                calls.append(
                    tool_call(str(use.get("toolUseId")), use.get("name", ""), use.get("input") or {})
                )
            elif "reasoningContent" in block:
                reasoning.append(
                    ((block["reasoningContent"] or {}).get("reasoningText") or {}).get("text", "")
                )
        self.usage, self.saw_usage = usage_of(data.get("usage")), True
        message = assistant_message("".join(texts), calls, "".join(reasoning) or None)
        choice = {"message": message, "finish_reason": finish_reason_of(data.get("stopReason"))}
        return NormalizedResponse(chat_completion(self.model, [choice], self.usage), self.usage)

    def feed(self, data: bytes) -> list[Chunk]:
        out: list[Chunk] = []
        try:
            for headers, payload in self._decoder.feed(data):
                out.extend(self._chunks_of(headers, payload))
        except (HubError, EventStreamError, binascii.Error) as exc:
            error = (
                exc
                if isinstance(exc, HubError)
                else HubError(
                    502,
                    "upstream_malformed",
                    f"Bedrock sent a broken event stream: {exc}",
                    type="upstream_error",
                )
            )
            if not out:
                raise error from exc
            self.pending_error = error
        return out

    def finish(self) -> list[Chunk]:
        if self._decoder.leftover:
            raise HubError(
                502, "upstream_broken", "Bedrock stream ended inside an event", type="upstream_error"
            )
        return []

    def _chunks_of(self, headers: dict[str, Any], payload: bytes) -> list[Chunk]:
        kind = headers.get(":message-type", "event")
        if kind == "exception":
            raise exception_error(str(headers.get(":exception-type", "exception")), payload)
        if kind == "error":
            message = headers.get(":error-message") or headers.get(":error-code") or "unknown error"
            raise HubError(
                502, "upstream_error", f"Bedrock error during stream: {message}", type="upstream_error"
            )
        event = headers.get(":event-type")
        data = load_json_object(payload, "Bedrock") if payload else {}
        w = self._writer
        if event == "contentBlockStart":
            use = (data.get("start") or {}).get("toolUse")
            if use:
                position = len(self._blocks)
                self._blocks[int(data.get("contentBlockIndex") or 0)] = position
                self._saw_tool_calls = True
                return [w.tool_call_start(position, str(use.get("toolUseId")), use.get("name", ""))]
        elif event == "contentBlockDelta":
            delta = data.get("delta") or {}
            if "text" in delta:
                return [w.text(delta["text"])] if delta["text"] else []
            if "toolUse" in delta:
                position = self._blocks.get(int(data.get("contentBlockIndex") or 0), 0)
                return [w.tool_call_arguments(position, str(delta["toolUse"].get("input", "")))]
            if (delta.get("reasoningContent") or {}).get("text"):
                return [w.reasoning(delta["reasoningContent"]["text"])]
        elif event == "messageStop":
            return [w.finish(finish_reason_of(data.get("stopReason")))]
        elif event == "metadata":
            self.usage, self.saw_usage = usage_of(data.get("usage")), True
            return [w.usage(self.usage)]
        return []


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
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "us.meta.llama3-3-70b-instruct-v1:0",
            "mistral.mistral-large-2402-v1:0",
        )
    }

    @staticmethod
    def region_of(route: Route) -> str:
        values = route.credential.values if route.credential else {}
        return values.get("region") or str((route.config or {}).get("region") or "") or DEFAULT_REGION

    def _build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        base = route.base_url.rstrip("/").replace("{region}", self.region_of(route))
        # model ids hold ':' and, for inference-profile ARNs, '/': one encoded path segment
        url = f"{base}/model/{quote(route.model, safe='')}/{'converse-stream' if stream else 'converse'}"
        headers = {"Content-Type": "application/json"}
        if stream:
            headers["Accept"] = "application/vnd.amazon.eventstream"
        return UpstreamRequest("POST", url, headers=headers, json=converse_body(payload, route.model))

    def apply_credential(self, upstream: UpstreamRequest, credential: Credential | None) -> None:
        if credential is None or not credential.values.get("secret_access_key"):
            raise HubError(
                503, "no_active_credential", "Bedrock needs an access key id and secret access key"
            )
        region = credential.values.get("region") or region_from_url(upstream.url) or DEFAULT_REGION
        sign_request(upstream, credential, region)

    def normalizer(self, kind: str, stream: bool, route: Route) -> Normalizer:
        if kind == "chat":
            return ConverseNormalizer(route.model)
        raise HubError(400, "unsupported_operation", f"Provider {self.name} does not support {kind}")

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        if status == 408:  # ModelTimeoutException
            return HubError(
                504,
                "upstream_timeout",
                f"Bedrock model timed out: {upstream_message(body)}",
                type="upstream_error",
            )
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and "Message" in data and "message" not in data:
            body = json.dumps({"message": data["Message"]}).encode()
        return super().map_error(status, body, headers)


def region_from_url(url: str) -> str | None:
    """``bedrock-runtime.eu-west-1.amazonaws.com`` → ``eu-west-1`` (a base URL names its region)."""
    parts = (urlsplit(url).hostname or "").split(".")
    return parts[1] if len(parts) > 3 and parts[0].startswith("bedrock") and parts[-1] == "com" else None


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(BedrockProvider())
