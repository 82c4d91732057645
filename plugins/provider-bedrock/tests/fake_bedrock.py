"""A fake Amazon Bedrock Runtime on a real socket, built from AWS's Converse / ConverseStream API reference.

It verifies every request's AWS Signature Version 4 for real, with its own implementation of the algorithm
(not the plugin's): the canonical request from the path and query as they arrived, the signed headers and the
hash of the body bytes received; the credential scope, date, session token and signature checked against the
secrets it knows, answering ``403`` with AWS's error types (``UnrecognizedClientException``,
``InvalidSignatureException``) as Bedrock does. It validates the Converse request shape (alternating roles,
one member per content block, image / document formats and bytes, tool blocks, cache points, inference
settings), answers with Converse JSON, streams in AWS's binary event-stream framing (prelude and message
CRC32, string headers, AWS's ``p`` padding member), fails like Bedrock does (``x-amzn-ErrorType`` plus
``{"message": ...}``) on command or by model name, and follows the conformance scenario contract.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from aiohttp import web

from hub_core.testing import (
    FAIL_401,
    FAIL_429,
    FAIL_500,
    MALFORMED,
    STREAM_ERROR,
    USAGE_DETAILS,
    FakeServer,
    Recorded,
    reply_text,
    words_of,
)

ACCESS_KEY_ID = "AKIAFAKEBEDROCK00001"
SECRET_KEY = "fake/Secret+Key0123456789abcdefghijklmnop"
TEMP_KEY_ID = "ASIAFAKEBEDROCKTEMP1"
TEMP_SECRET = "temporary/Secret+Key0123456789abcdefghij"
SESSION_TOKEN = "FwoGZXIvYXdzEFAKE//////////wEaDFAKEtokenFAKE+/="
REGION = "eu-central-1"
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")
CONTENT_MEMBERS = {
    "text",
    "image",
    "document",
    "video",
    "toolUse",
    "toolResult",
    "reasoningContent",
    "cachePoint",
    "guardContent",
    "citationsContent",
}
INFERENCE_KEYS = {"maxTokens", "temperature", "topP", "stopSequences"}
DOCUMENT_FORMATS = {"pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"}
DOCUMENT_NAME = re.compile(r"^(?!.*\s\s)[A-Za-z0-9\s\-()\[\]]{1,200}$")
#: what `fail_next(status)` answers with: Bedrock's error type for that status
ERROR_TYPES = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "UnrecognizedClientException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
#: model-name endings beyond the conformance scenarios: (status, error type, message)
NAMED_FAILURES = {
    FAIL_401: (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    FAIL_429: (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    FAIL_500: (500, "InternalServerException", "The server encountered an internal error."),
    "access-denied": (
        403,
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    ),
    "model-timeout": (408, "ModelTimeoutException", "The request took too long to process."),
    "model-error": (424, "ModelErrorException", "The model returned an error: Invalid model output."),
    "not-ready": (429, "ModelNotReadyException", "The model is not ready to serve inference requests."),
    "unavailable": (503, "ServiceUnavailableException", "The service isn't currently available."),
    "no-such-model": (404, "ResourceNotFoundException", "The requested resource could not be found."),
}
REASONING = "Let me think about it."
SIGNATURE = "EqQBCkYIBxgCKkBsigFAKE=="
REDACTED = base64.b64encode(b"encrypted thinking").decode()


# --- SigV4, verified independently of the plugin's signer ---------------------------------------------------


def _aws_quote(value: str) -> str:
    return quote(value, safe="-_.~")


def expected_signature(
    method: str,
    raw_path: str,
    query: str,
    headers: Any,
    signed: list[str],
    body: bytes,
    secret: str,
    amz_date: str,
    scope: str,
) -> str:
    """What AWS computes from a request as received (non-S3 rules: the received path is encoded again)."""
    pairs = sorted((_aws_quote(k), _aws_quote(v)) for k, v in parse_qsl(query, keep_blank_values=True))
    canonical = "\n".join(
        [
            method,
            "/".join(_aws_quote(segment) for segment in raw_path.split("/")),
            "&".join(f"{k}={v}" for k, v in pairs),
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def aws_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    out = {
        "x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-RequestId": "fake-request-id",
        **(headers or {}),
    }
    return web.json_response({"message": message}, status=status, headers=out)


# --- the event-stream framing, written independently of the plugin's decoder ------------------------------


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string-typed (7) headers, as Bedrock sends them."""
    raw_headers = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + len(v.encode()).to_bytes(2, "big") + v.encode()
        for k, v in headers.items()
    )
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(raw_headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + raw_headers + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    """An event message; AWS pads payloads with a ``p`` member so their length says nothing."""
    padding = "abcdefghijklmnopqrstuvwxyzABCDEF"[: 5 + len(json.dumps(payload)) % 20]
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps({**payload, "p": padding}).encode())


def exception(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


# --- the fake -----------------------------------------------------------------------------------------------


class FakeBedrock(FakeServer):
    """``with FakeBedrock().in_thread() as fake``; `fake.credential` is what to store in the hub."""

    def __init__(self, region: str = REGION) -> None:
        super().__init__()
        self.region = region
        self.secrets = {ACCESS_KEY_ID: SECRET_KEY, TEMP_KEY_ID: TEMP_SECRET}
        self.tokens = {TEMP_KEY_ID: SESSION_TOKEN}  # temporary keys only work with their session token
        self.verified: list[dict[str, str]] = []  # per accepted request: key id, region, date, signed headers
        self.typed_failures: list[tuple[int, str, str, dict[str, str]]] = []

    @property
    def credential(self) -> dict[str, str]:
        return {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_KEY, "region": self.region}

    @property
    def temporary_credential(self) -> dict[str, str]:
        return {
            "access_key_id": TEMP_KEY_ID,
            "secret_access_key": TEMP_SECRET,
            "session_token": SESSION_TOKEN,
            "region": self.region,
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/model/{model:.+}/converse", self.converse)
        app.router.add_post("/model/{model:.+}/converse-stream", self.converse_stream)

    def fail_next_aws(
        self, status: int, kind: str, message: str = "fake failure", headers: dict[str, str] | None = None
    ) -> None:
        """The next request fails with this AWS error type (`fail_next` picks the type from the status)."""
        self.typed_failures.append((status, kind, message, headers or {}))

    # --- signature ------------------------------------------------------------------------------------------

    def verify(self, request: web.Request, rec: Recorded) -> web.Response | None:
        match = AUTH_RE.match(request.headers.get("Authorization", ""))
        if not match:
            return aws_error(
                403,
                "IncompleteSignatureException",
                "Authorization header requires 'Credential', 'Signature', 'SignedHeaders' parameters.",
            )
        credential, signed_headers, signature = match.groups()
        parts = credential.split("/")
        if len(parts) != 5:
            return aws_error(403, "IncompleteSignatureException", "Credential must have exactly 5 parts.")
        akid, date, region, service, terminal = parts
        if akid not in self.secrets:
            return aws_error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        amz_date = request.headers.get("X-Amz-Date", "")
        if (region, service, terminal) != (self.region, "bedrock", "aws4_request"):
            return aws_error(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region. '{region}' is not valid here; "
                f"expecting '{self.region}'.",
            )
        if not amz_date.startswith(date):
            return aws_error(403, "InvalidSignatureException", "Date in Credential scope does not match.")
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - when).total_seconds()) > 300:
            return aws_error(403, "InvalidSignatureException", "Signature expired.")
        declared = request.headers.get("X-Amz-Content-Sha256")
        if declared is not None and declared != hashlib.sha256(rec.body).hexdigest():
            return aws_error(
                400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match."
            )
        signed = signed_headers.split(";")
        if "host" not in signed or "x-amz-date" not in signed or signed != sorted(signed):
            return aws_error(
                403, "InvalidSignatureException", "Signed headers must include host and x-amz-date, sorted."
            )
        if any(name not in request.headers for name in signed):
            return aws_error(403, "InvalidSignatureException", "A signed header is missing from the request.")
        token = self.tokens.get(akid)
        if token is not None and (
            request.headers.get("X-Amz-Security-Token") != token or "x-amz-security-token" not in signed
        ):
            return aws_error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        path, _, query = request.raw_path.partition("?")
        scope = f"{date}/{region}/{service}/aws4_request"
        want = expected_signature(
            request.method,
            path,
            query,
            request.headers,
            signed,
            rec.body,
            self.secrets[akid],
            amz_date,
            scope,
        )
        if not hmac.compare_digest(want, signature):
            return aws_error(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service documentation "
                "for details.",
            )
        self.verified.append({"key": akid, "region": region, "date": amz_date, "signed": signed_headers})
        return None

    # --- admission ------------------------------------------------------------------------------------------

    async def admit(self, request: web.Request) -> tuple[Recorded, str, web.Response | None]:
        rec = await self.record(request)
        model = request.match_info["model"]
        refused = self.verify(request, rec)
        if refused is not None:
            return rec, model, refused
        if self.typed_failures:
            status, kind, message, headers = self.typed_failures.pop(0)
            return rec, model, aws_error(status, kind, message, headers)
        failure = self.pop_failure()
        if failure is not None:
            kind = ERROR_TYPES.get(failure.status, "InternalServerException")
            return rec, model, aws_error(failure.status, kind, failure.message, failure.headers)
        for ending, (status, kind, message) in NAMED_FAILURES.items():
            if model.endswith(ending):
                return rec, model, aws_error(status, kind, message)
        if model.endswith(MALFORMED):
            return rec, model, web.Response(body=b'{"output": {"message": ', content_type="application/json")
        if request.content_type != "application/json" or not isinstance(rec.json, dict):
            return rec, model, aws_error(400, "SerializationException", "Unable to parse request body.")
        problem = self.check(rec.json)
        if problem:
            return rec, model, aws_error(400, "ValidationException", problem)
        return rec, model, None

    @staticmethod
    def check_block(block: dict[str, Any], where: str) -> str | None:
        members = set(block) & CONTENT_MEMBERS
        if len(members) != 1 or len(block) != 1:
            return f"{where}: a content block is a union, got {sorted(block)}"
        if "text" in block and (not isinstance(block["text"], str) or not block["text"].strip()):
            return f"{where}: The text field in the ContentBlock object is blank. Add text and try again."
        if "image" in block:
            img = block["image"]
            if img.get("format") not in ("png", "jpeg", "gif", "webp"):
                return f"{where}.image.format: must be png, jpeg, gif or webp"
            try:
                base64.b64decode(img["source"]["bytes"], validate=True)
            except (binascii.Error, KeyError, TypeError, ValueError):
                return f"{where}.image.source.bytes: invalid base64"
        if "document" in block:
            doc = block["document"]
            if doc.get("format") not in DOCUMENT_FORMATS or not DOCUMENT_NAME.match(str(doc.get("name"))):
                return f"{where}.document: invalid format or name"
        if "toolUse" in block:
            use = block["toolUse"]
            if not use.get("toolUseId") or not use.get("name") or not isinstance(use.get("input"), dict):
                return f"{where}.toolUse needs toolUseId, name and an input object"
        if "toolResult" in block:
            result = block["toolResult"]
            content = result.get("content")
            if not result.get("toolUseId") or not isinstance(content, list) or not content:
                return f"{where}.toolResult needs toolUseId and content"
            if result.get("status") not in (None, "success", "error"):
                return f"{where}.toolResult.status must be success or error"
        if "cachePoint" in block and block["cachePoint"] != {"type": "default"}:
            return f"{where}.cachePoint.type must be default"
        if "reasoningContent" in block:
            reasoning = block["reasoningContent"]
            if len(reasoning) != 1 or not ({"reasoningText", "redactedContent"} & set(reasoning)):
                return f"{where}.reasoningContent is a union of reasoningText and redactedContent"
        return None

    def check(self, body: dict[str, Any]) -> str | None:
        unknown = set(body) - {
            "messages",
            "system",
            "inferenceConfig",
            "toolConfig",
            "additionalModelRequestFields",
            "additionalModelResponseFieldPaths",
            "guardrailConfig",
            "performanceConfig",
            "promptVariables",
            "requestMetadata",
        }
        if unknown:
            return f"Unknown fields {sorted(unknown)}"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "The messages field is required."
        for i, msg in enumerate(messages):
            expected = "user" if i % 2 == 0 else "assistant"
            if msg.get("role") != expected:
                return "A conversation must alternate between user and assistant roles."
            if not msg.get("content"):
                return f"messages.{i}.content must not be empty"
            for j, block in enumerate(msg["content"]):
                problem = self.check_block(block, f"messages.{i}.content.{j}")
                if problem:
                    return problem
        for block in body.get("system") or []:
            if not (block.get("text") or "cachePoint" in block) or len(block) != 1:
                return "system blocks are text or cachePoint"
        unknown = set(body.get("inferenceConfig") or {}) - INFERENCE_KEYS
        if unknown:
            return f"inferenceConfig has unknown fields {sorted(unknown)}"
        for tool in (body.get("toolConfig") or {}).get("tools") or []:
            if "cachePoint" in tool:
                continue
            spec = tool.get("toolSpec") or {}
            if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", str(spec.get("name"))):
                return "toolSpec.name must match [a-zA-Z0-9_-]{1,64}"
            if "json" not in (spec.get("inputSchema") or {}):
                return "toolSpec needs inputSchema.json"
        choice = (body.get("toolConfig") or {}).get("toolChoice")
        if choice is not None and (len(choice) != 1 or not {"auto", "any", "tool"} & set(choice)):
            return "toolChoice is a union of auto, any and tool"
        return None

    # --- answers --------------------------------------------------------------------------------------------

    @staticmethod
    def answer(body: dict[str, Any], model: str) -> tuple[str, dict[str, Any] | None, dict[str, int]]:
        last_text, images, tool_result = "", [], None
        for msg in body["messages"]:
            if msg["role"] != "user":
                continue
            results = [b["toolResult"] for b in msg["content"] if "toolResult" in b]
            if results:
                block = results[-1]["content"][0]
                tool_result = block.get("text", json.dumps(block.get("json")))
                continue
            tool_result = None
            last_text = "".join(b.get("text", "") for b in msg["content"])
            images = [f"image/{b['image']['format']}" for b in msg["content"] if "image" in b]
        system = "".join(b.get("text", "") for b in body.get("system") or []) or None
        text = reply_text(last_text, images, system, tool_result)
        call = None
        tools = [t for t in (body.get("toolConfig") or {}).get("tools") or [] if "toolSpec" in t]
        if tools and tool_result is None:
            call = {
                "toolUseId": "tooluse_fake0001",
                "name": tools[0]["toolSpec"]["name"],
                "input": {"city": "Paris"},
            }
        usage = {
            "inputTokens": sum(len(json.dumps(m).split()) for m in body["messages"]),
            "outputTokens": len(text.split()),
        }
        if model.endswith(USAGE_DETAILS):
            usage = {
                "inputTokens": 50,
                "cacheReadInputTokens": 40,
                "cacheWriteInputTokens": 10,
                "outputTokens": 50,
            }
        usage["totalTokens"] = sum(usage.values())
        return text, call, usage

    async def converse(self, request: web.Request) -> web.Response:
        rec, model, failed = await self.admit(request)
        if failed is not None:
            return failed
        text, call, usage = self.answer(rec.json, model)
        content: list[dict[str, Any]] = [{"toolUse": call}] if call else [{"text": text}]
        if model.endswith("reasoning"):
            reasoning = {"reasoningText": {"text": REASONING, "signature": SIGNATURE}}
            content = [{"reasoningContent": reasoning}, {"reasoningContent": {"redactedContent": REDACTED}}]
            content.append({"text": text})
        return web.json_response(
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": "tool_use" if call else "end_turn",
                "usage": usage,
                "metrics": {"latencyMs": 321},
            },
            headers={"x-amzn-RequestId": "fake-request-id"},
        )

    async def converse_stream(self, request: web.Request) -> web.StreamResponse:
        rec, model, failed = await self.admit(request)
        if failed is not None:
            return failed
        text, call, usage = self.answer(rec.json, model)
        resp = web.StreamResponse(
            headers={
                "Content-Type": "application/vnd.amazon.eventstream",
                "x-amzn-RequestId": "fake-request-id",
            }
        )
        await resp.prepare(request)
        messages = self.stream_messages(model, text, call, usage)
        if model.endswith("split-frames"):
            # every message cut into 5-byte pieces sent apart: the reader must reassemble across reads
            raw = b"".join(messages)
            for i in range(0, len(raw), 5):
                await resp.write(raw[i : i + 5])
                await asyncio.sleep(0)
            return resp
        for message in messages:
            await resp.write(message)
        return resp

    @staticmethod
    def stream_messages(
        model: str, text: str, call: dict[str, Any] | None, usage: dict[str, int]
    ) -> list[bytes]:
        if model.endswith("throttled-stream"):
            return [exception("throttlingException", "Too many tokens, please wait before trying again.")]
        out = [event("messageStart", {"role": "assistant"})]
        index = 0
        if model.endswith("reasoning"):
            for piece in (REASONING[:9], REASONING[9:]):
                delta = {"reasoningContent": {"text": piece}}
                out.append(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta}))
            delta = {"reasoningContent": {"signature": SIGNATURE}}
            out.append(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta}))
            out.append(event("contentBlockStop", {"contentBlockIndex": 0}))
            delta = {"reasoningContent": {"redactedContent": REDACTED}}
            out.append(event("contentBlockDelta", {"contentBlockIndex": 1, "delta": delta}))
            out.append(event("contentBlockStop", {"contentBlockIndex": 1}))
            index = 2
        if call:
            start = {"toolUse": {"toolUseId": call["toolUseId"], "name": call["name"]}}
            out.append(event("contentBlockStart", {"contentBlockIndex": index, "start": start}))
            args = json.dumps(call["input"])
            for part in (args[:5], args[5:]):
                delta = {"toolUse": {"input": part}}
                out.append(event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        else:
            for i, piece in enumerate(words_of(text)):
                if model.endswith(STREAM_ERROR) and i == 2:
                    out.append(exception("modelStreamErrorException", "The model stream failed mid-stream."))
                    return out
                message = event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": piece}})
                if model.endswith("corrupt-crc") and i == 2:
                    message = message[:-1] + bytes([message[-1] ^ 0xFF])
                out.append(message)
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
        out.append(event("messageStop", {"stopReason": "tool_use" if call else "end_turn"}))
        out.append(event("metadata", {"usage": usage, "metrics": {"latencyMs": 321}}))
        return out
