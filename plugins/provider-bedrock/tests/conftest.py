"""A fake Amazon Bedrock Runtime on a real socket, built from AWS's Converse / ConverseStream API reference.

It verifies every request's AWS Signature Version 4 for real (its own implementation of the algorithm, not
the plugin's: canonical request from the raw path, query, signed headers and body hash; scope, date and
signature checked against the secret it knows), validates the Converse request shape (alternating roles,
one member per content block, image formats and bytes, tool blocks, inference settings), answers with
Converse JSON, streams in AWS's binary event-stream framing with CRC32 checks, fails like Bedrock does
(``x-amzn-ErrorType`` plus ``{"message": ...}``) and follows the conformance scenario contract.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from aiohttp import web

from hub_core.testing.fake_server import (
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
REGION = "eu-central-1"
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")
CONTENT_MEMBERS = {
    "text",
    "image",
    "document",
    "toolUse",
    "toolResult",
    "reasoningContent",
    "cachePoint",
    "video",
}
INFERENCE_KEYS = {"maxTokens", "temperature", "topP", "stopSequences"}


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
    canonical = "\n".join(
        [
            method,
            "/".join(_aws_quote(segment) for segment in raw_path.split("/")),
            "&".join(
                f"{_aws_quote(k)}={_aws_quote(v)}"
                for k, v in sorted(parse_qsl(query, keep_blank_values=True))
            ),
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


def aws_error(status: int, kind: str, message: str) -> web.Response:
    headers = {
        "x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-RequestId": "fake-request-id",
    }
    return web.json_response({"message": message}, status=status, headers=headers)


def event(event_type: str, payload: dict[str, Any], message_type: str = "event") -> bytes:
    """One event-stream message; AWS pads payloads with a ``p`` member to hide their length."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": message_type}
    if message_type == "exception":
        headers = {
            ":exception-type": event_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        }
    body = json.dumps(
        {**payload, "p": "abcdefghijklmnopqrstuvwxyzABCDEF"[: 5 + len(json.dumps(payload)) % 20]}
    ).encode()
    raw_headers = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + len(v.encode()).to_bytes(2, "big") + v.encode()
        for k, v in headers.items()
    )
    prelude = (12 + len(raw_headers) + len(body) + 4).to_bytes(4, "big") + len(raw_headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + raw_headers + body
    return message + zlib.crc32(message).to_bytes(4, "big")


class FakeBedrock(FakeServer):
    def __init__(self, region: str = REGION) -> None:
        super().__init__()
        self.region = region
        self.secrets = {ACCESS_KEY_ID: SECRET_KEY}
        self.signature_checks = 0

    @property
    def credential(self) -> Any:
        return {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_KEY, "region": self.region}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/model/{model:.+}/converse", self.converse)
        app.router.add_post("/model/{model:.+}/converse-stream", self.converse_stream)

    def verify(self, request: web.Request, rec: Recorded) -> web.Response | None:
        match = AUTH_RE.match(request.headers.get("Authorization", ""))
        if not match:
            return aws_error(
                403,
                "IncompleteSignatureException",
                "Authorization header requires 'Credential', 'Signature', 'SignedHeaders'",
            )
        credential, signed_headers, signature = match.groups()
        akid, date, region, service, terminal = credential.split("/")
        if akid not in self.secrets:
            return aws_error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        amz_date = request.headers.get("X-Amz-Date", "")
        if (region, service, terminal) != (self.region, "bedrock", "aws4_request") or not amz_date.startswith(
            date
        ):
            return aws_error(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region, not '{region}'.",
            )
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - when).total_seconds()) > 300:
            return aws_error(403, "InvalidSignatureException", "Signature expired")
        declared = request.headers.get("X-Amz-Content-Sha256")
        if declared is not None and declared != hashlib.sha256(rec.body).hexdigest():
            return aws_error(
                400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match"
            )
        signed = signed_headers.split(";")
        if "host" not in signed or "x-amz-date" not in signed or signed != sorted(signed):
            return aws_error(
                403, "InvalidSignatureException", "Signed headers must include host and x-amz-date, sorted"
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
                "Check your AWS Secret Access Key and signing method.",
            )
        self.signature_checks += 1
        return None

    async def admit(self, request: web.Request) -> tuple[Recorded, str, web.Response | None]:
        rec = await self.record(request)
        model = request.match_info["model"]
        refused = self.verify(request, rec)
        if refused is not None:
            return rec, model, refused
        failure = self.pop_failure()
        if failure is not None:
            return rec, model, aws_error(failure.status, "ServiceUnavailableException", failure.message)
        if model.endswith(FAIL_401):
            return (
                rec,
                model,
                aws_error(
                    403,
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                ),
            )
        if model.endswith(FAIL_429):
            return (
                rec,
                model,
                aws_error(429, "ThrottlingException", "Too many requests, please wait before trying again."),
            )
        if model.endswith(FAIL_500):
            return (
                rec,
                model,
                aws_error(500, "InternalServerException", "The server encountered an internal error."),
            )
        if model.endswith(MALFORMED):
            return rec, model, web.Response(body=b'{"output": {"message": ', content_type="application/json")
        if not isinstance(rec.json, dict):
            return rec, model, aws_error(400, "SerializationException", "Unable to parse request body")
        problem = self.check(rec.json)
        if problem:
            return rec, model, aws_error(400, "ValidationException", problem)
        return rec, model, None

    @staticmethod
    def check(body: dict[str, Any]) -> str | None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "The messages field is required"
        for i, msg in enumerate(messages):
            expected = "user" if i % 2 == 0 else "assistant"
            if msg.get("role") != expected:
                return "A conversation must alternate between user and assistant roles"
            for block in msg.get("content") or []:
                members = set(block) & CONTENT_MEMBERS
                if len(members) != 1:
                    return f"messages.{i}.content: a block needs exactly one member, got {sorted(members)}"
                if "text" in block and not block["text"]:
                    return "The text field in the ContentBlock object is blank."
                if "image" in block:
                    img = block["image"]
                    if img.get("format") not in ("png", "jpeg", "gif", "webp"):
                        return "Invalid image format"
                    try:
                        base64.b64decode(img["source"]["bytes"], validate=True)
                    except (binascii.Error, KeyError, ValueError):
                        return "Invalid image bytes"
                if "toolUse" in block and not isinstance(block["toolUse"].get("input"), dict):
                    return "toolUse.input must be an object"
        for block in body.get("system") or []:
            if not block.get("text"):
                return "system blocks need text"
        unknown = set(body.get("inferenceConfig") or {}) - INFERENCE_KEYS
        if unknown:
            return f"inferenceConfig has unknown fields {sorted(unknown)}"
        for tool in (body.get("toolConfig") or {}).get("tools") or []:
            spec = tool.get("toolSpec") or {}
            if not spec.get("name") or "json" not in (spec.get("inputSchema") or {}):
                return "toolSpec needs a name and inputSchema.json"
        return None

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
        system = "".join(b["text"] for b in body.get("system") or []) or None
        text = reply_text(last_text, images, system, tool_result)
        call = None
        tools = (body.get("toolConfig") or {}).get("tools") or []
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
        content = [{"toolUse": call}] if call else [{"text": text}]
        return web.json_response(
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": "tool_use" if call else "end_turn",
                "usage": usage,
                "metrics": {"latencyMs": 321},
            }
        )

    async def converse_stream(self, request: web.Request) -> web.StreamResponse:
        rec, model, failed = await self.admit(request)
        if failed is not None:
            return failed
        text, call, usage = self.answer(rec.json, model)
        resp = web.StreamResponse(headers={"Content-Type": "application/vnd.amazon.eventstream"})
        await resp.prepare(request)
        await resp.write(event("messageStart", {"role": "assistant"}))
        if call:
            start = {"toolUse": {"toolUseId": call["toolUseId"], "name": call["name"]}}
            await resp.write(event("contentBlockStart", {"contentBlockIndex": 0, "start": start}))
            args = json.dumps(call["input"])
            for part in (args[:5], args[5:]):
                await resp.write(
                    event(
                        "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": part}}}
                    )
                )
        else:
            for i, piece in enumerate(words_of(text)):
                if model.endswith(STREAM_ERROR) and i == 2:
                    message = {"message": "The model stream failed mid-stream."}
                    await resp.write(event("modelStreamErrorException", message, "exception"))
                    return resp
                await resp.write(
                    event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
                )
        await resp.write(event("contentBlockStop", {"contentBlockIndex": 0}))
        await resp.write(event("messageStop", {"stopReason": "tool_use" if call else "end_turn"}))
        await resp.write(event("metadata", {"usage": usage, "metrics": {"latencyMs": 321}}))
        return resp


@pytest.fixture
def provider_fake() -> Iterator[FakeBedrock]:
    with FakeBedrock().in_thread() as fake:
        yield fake
