"""A fake Gemini API (``v1beta``) on a real socket, built from Google's Gemini API reference.

It speaks ``models/{model}:generateContent``, ``:streamGenerateContent?alt=sse``, ``:embedContent``,
``:batchEmbedContents``, Imagen's ``:predict`` and ``GET models``, authenticates ``x-goog-api-key`` the way
Google does (a bad key is a 400 ``API_KEY_INVALID``), checks the request shape (roles, one data field per
part, base64 inline data, object arguments and responses, known ``generationConfig`` fields), answers with
Google's JSON (``usageMetadata`` with cached and thinking tokens, ``RetryInfo`` on 429) and follows the
conformance scenario contract.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from hub_core.testing import (
    FAIL_401,
    FAIL_429,
    FAIL_500,
    MALFORMED,
    PNG_1PX,
    RETRY_AFTER_SECONDS,
    STREAM_ERROR,
    USAGE_DETAILS,
    FakeServer,
    Recorded,
    reply_text,
    words_of,
)

MP4_STUB = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 16
DATA_FIELDS = {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode"}
GENERATION_FIELDS = {
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "maxOutputTokens",
    "stopSequences",
    "candidateCount",
    "responseMimeType",
    "responseJsonSchema",
    "responseSchema",
    "responseModalities",
    "thinkingConfig",
    "imageConfig",
}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
}


def google_error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> web.Response:
    err: dict[str, Any] = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    if details:
        err["details"] = details
    return web.json_response({"error": err}, status=status)


def invalid_key() -> web.Response:
    return google_error(
        400,
        "API key not valid. Please pass a valid API key.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    )


def rate_limited() -> web.Response:
    return google_error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests"}
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{RETRY_AFTER_SECONDS - 0.5}s",
            },
        ],
    )


def check_contents(body: dict[str, Any]) -> str | None:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for i, content in enumerate(contents):
        if content.get("role") not in ("user", "model"):
            return f"Please use a valid role: user, model. (contents[{i}])"
        for part in content.get("parts") or []:
            fields = set(part) & DATA_FIELDS
            if len(fields) != 1:
                return f"contents[{i}].parts: exactly one data field is required, got {sorted(fields)}"
            if "inlineData" in part:
                try:
                    base64.b64decode(part["inlineData"]["data"], validate=True)
                except (binascii.Error, KeyError, ValueError):
                    return "Invalid value at 'inline_data.data' (TYPE_BYTES), Base64 decoding failed"
            if "functionCall" in part and not isinstance(part["functionCall"].get("args", {}), dict):
                return "Invalid value at 'function_call.args' (google.protobuf.Struct)"
            if "functionResponse" in part and not isinstance(part["functionResponse"].get("response"), dict):
                return "Invalid value at 'function_response.response' (google.protobuf.Struct)"
    unknown = set(body.get("generationConfig") or {}) - GENERATION_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        return f"Invalid JSON payload received. Unknown name \"{name}\" at 'generation_config'"
    return None


def conversation(body: dict[str, Any]) -> tuple[str, list[str], str | None, str | None]:
    last_text, images, tool_result = "", [], None
    for content in body["contents"]:
        parts = content.get("parts") or []
        if content["role"] == "user" and not any("functionResponse" in p for p in parts):
            last_text = "".join(p.get("text", "") for p in parts)
            images = [p["inlineData"]["mimeType"] for p in parts if "inlineData" in p]
    last_parts = body["contents"][-1].get("parts") or []
    if any("functionResponse" in p for p in last_parts):
        response = last_parts[-1]["functionResponse"]["response"]
        tool_result = str(response.get("result", json.dumps(response)))
    system_parts = (body.get("systemInstruction") or {}).get("parts") or []
    system = "".join(p.get("text", "") for p in system_parts) or None
    return last_text, images, system, tool_result


class FakeGemini(FakeServer):
    base_path = "/v1beta"

    def __init__(self, api_key: str = "AIzaSy-fake-gemini-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.operations: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{call:.+}", self.model_call)
        app.router.add_get("/v1beta/models", self.list_models)
        app.router.add_get("/v1beta/models/{model}/operations/{op}", self.get_operation)
        app.router.add_get("/v1beta/files/{file}", self.download)

    async def model_call(self, request: web.Request) -> web.StreamResponse:
        rec = await self.record(request)
        model, _, method = request.match_info["call"].rpartition(":")
        if rec.headers.get("x-goog-api-key") != self.api_key:
            return invalid_key()
        if not isinstance(rec.json, dict):
            return google_error(400, "Invalid JSON payload received.")
        failure = self.pop_failure()
        if failure is not None:
            return google_error(failure.status, failure.message)
        if model.endswith(FAIL_401):
            return invalid_key()
        if model.endswith(FAIL_429):
            return rate_limited()
        if model.endswith(FAIL_500):
            return google_error(
                500,
                "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            )
        if model.endswith(MALFORMED):
            return web.Response(body=b'{"candidates": [{"content": ', content_type="application/json")
        handler = {
            "generateContent": self.generate,
            "streamGenerateContent": self.stream,
            "embedContent": self.embed,
            "batchEmbedContents": self.batch_embed,
            "predict": self.predict,
            "predictLongRunning": self.predict_long_running,
        }.get(method)
        if handler is None:
            return google_error(404, f"Method {method} not found")
        return await handler(request, rec, model)

    # --- generateContent -------------------------------------------------------------------------------

    def answer(
        self, body: dict[str, Any], model: str
    ) -> tuple[str, dict[str, Any] | None, str | None, dict[str, Any]]:
        text = reply_text(*conversation(body))
        call = None
        mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode", "AUTO")
        last_is_result = any("functionResponse" in p for p in body["contents"][-1].get("parts") or [])
        if body.get("tools") and mode != "NONE" and not last_is_result:
            name = body["tools"][0]["functionDeclarations"][0]["name"]
            call = {"name": name, "args": {"city": "Paris"}}
        thinking = ((body.get("generationConfig") or {}).get("thinkingConfig") or {}).get("includeThoughts")
        thought = "I should echo the question." if thinking else None
        prompt = sum(len(json.dumps(c).split()) for c in body["contents"])
        usage: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": len(text.split())}
        if model.endswith(USAGE_DETAILS):
            usage = {
                "promptTokenCount": 100,
                "cachedContentTokenCount": 40,
                "candidatesTokenCount": 30,
                "thoughtsTokenCount": 20,
            }
        usage["totalTokenCount"] = sum(v for k, v in usage.items() if k != "cachedContentTokenCount")
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": usage["promptTokenCount"]}]
        return text, call, thought, usage

    async def generate(self, request: web.Request, rec: Recorded, model: str) -> web.Response:
        body = rec.json
        if model.endswith("-image") or "IMAGE" in (
            (body.get("generationConfig") or {}).get("responseModalities") or []
        ):
            return await self.generate_image(body, model)
        problem = check_contents(body)
        if problem:
            return google_error(400, problem)
        text, call, thought, usage = self.answer(body, model)
        candidates = []
        count = int((body.get("generationConfig") or {}).get("candidateCount") or 1)
        for index in range(count):
            parts: list[dict[str, Any]] = []
            if thought:
                parts.append({"text": thought, "thought": True})
            if call:
                parts.append({"functionCall": call, "thoughtSignature": "c2lnbmF0dXJl"})
            else:
                parts.append({"text": text if index == 0 else f"{text} #{index + 1}"})
            candidates.append(
                {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": index}
            )
        return web.json_response(
            {
                "candidates": candidates,
                "usageMetadata": usage,
                "modelVersion": model,
                "responseId": "fake-response-1",
            }
        )

    async def stream(self, request: web.Request, rec: Recorded, model: str) -> web.StreamResponse:
        if rec.query.get("alt") != "sse":
            return google_error(400, "this fake only streams Server-Sent Events (alt=sse)")
        body = rec.json
        problem = check_contents(body)
        if problem:
            return google_error(400, problem)
        text, call, thought, usage = self.answer(body, model)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(
            parts: list[dict[str, Any]], finish: str | None = None, final_usage: bool = False
        ) -> None:
            cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if finish:
                cand["finishReason"] = finish
            meta = (
                usage
                if final_usage
                else {
                    "promptTokenCount": usage["promptTokenCount"],
                    "totalTokenCount": usage["promptTokenCount"],
                }
            )
            chunk = {
                "candidates": [cand],
                "usageMetadata": meta,
                "modelVersion": model,
                "responseId": "fake-response-1",
            }
            await resp.write(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")

        if thought:
            await send([{"text": thought, "thought": True}])
        if call:
            await send([{"functionCall": call, "thoughtSignature": "c2lnbmF0dXJl"}], "STOP", True)
            return resp
        pieces = words_of(text)
        for i, piece in enumerate(pieces):
            if model.endswith(STREAM_ERROR) and i == 2:
                err = {
                    "error": {
                        "code": 500,
                        "message": "Internal error encountered mid-stream.",
                        "status": "INTERNAL",
                    }
                }
                await resp.write(b"data: " + json.dumps(err).encode() + b"\r\n\r\n")
                return resp
            last = i == len(pieces) - 1
            await send([{"text": piece}], "STOP" if last else None, last)
        return resp

    async def generate_image(self, body: dict[str, Any], model: str) -> web.Response:
        prompt = body["contents"][-1]["parts"][0]["text"]
        parts = [
            {"text": f"Here is {prompt}."},
            {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG_1PX).decode()}},
        ]
        usage = {"promptTokenCount": 7, "candidatesTokenCount": 1290, "totalTokenCount": 1297}
        cand = {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
        return web.json_response({"candidates": [cand], "usageMetadata": usage, "modelVersion": model})

    # --- embeddings and Imagen ------------------------------------------------------------------------------

    @staticmethod
    def vector(text: str, dims: int) -> list[float]:
        return [round(((len(text) + j) % 9) / 9 - 0.5, 6) for j in range(dims)]

    async def embed(self, request: web.Request, rec: Recorded, model: str) -> web.Response:
        parts = (rec.json.get("content") or {}).get("parts") or []
        if not parts:
            return google_error(400, "* EmbedContentRequest.content: contents is not specified")
        text = "".join(p.get("text", "") for p in parts)
        return web.json_response(
            {"embedding": {"values": self.vector(text, int(rec.json.get("outputDimensionality") or 8))}}
        )

    async def batch_embed(self, request: web.Request, rec: Recorded, model: str) -> web.Response:
        out = []
        for i, req in enumerate(rec.json.get("requests") or []):
            if req.get("model") != f"models/{model}":
                return google_error(400, f"Model names should match in requests[{i}]: models/{model}")
            text = "".join(p.get("text", "") for p in (req.get("content") or {}).get("parts") or [])
            out.append({"values": self.vector(text, int(req.get("outputDimensionality") or 8))})
        return web.json_response({"embeddings": out})

    async def predict(self, request: web.Request, rec: Recorded, model: str) -> web.Response:
        instances = rec.json.get("instances") or []
        if not instances or not instances[0].get("prompt"):
            return google_error(400, "instances[0].prompt is required")
        params = rec.json.get("parameters") or {}
        if params.get("aspectRatio") not in (None, "1:1", "3:4", "4:3", "9:16", "16:9"):
            return google_error(400, f"Unsupported aspect ratio: {params['aspectRatio']}")
        count = int(params.get("sampleCount") or 1)
        image = base64.b64encode(PNG_1PX).decode()
        return web.json_response(
            {"predictions": [{"mimeType": "image/png", "bytesBase64Encoded": image}] * count}
        )

    # --- Veo: long-running operations --------------------------------------------------------------------

    async def predict_long_running(self, request: web.Request, rec: Recorded, model: str) -> web.Response:
        instances = rec.json.get("instances") or []
        if not instances or not instances[0].get("prompt"):
            return google_error(400, "instances[0].prompt is required")
        params = rec.json.get("parameters") or {}
        if params.get("aspectRatio") not in (None, "16:9", "9:16"):
            return google_error(400, "aspectRatio must be 16:9 or 9:16")
        op_id = f"op{len(self.operations) + 1}"
        name = f"models/{model}/operations/{op_id}"
        self.operations[op_id] = {"name": name, "polls": 0, "prompt": instances[0]["prompt"]}
        return web.json_response({"name": name})

    async def get_operation(self, request: web.Request) -> web.Response:
        await self.record(request)
        if request.headers.get("x-goog-api-key") != self.api_key:
            return invalid_key()
        op = self.operations.get(request.match_info["op"])
        if op is None:
            return google_error(404, "Operation not found")
        op["polls"] += 1
        if op["polls"] < 2:
            return web.json_response({"name": op["name"], "done": False})
        if op["prompt"] == "filtered":
            result = {
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": ["The prompt was blocked by safety filters."],
            }
        else:
            uri = f"http://127.0.0.1:{self.port}/v1beta/files/{request.match_info['op']}:download?alt=media"
            result = {"generatedSamples": [{"video": {"uri": uri}}]}
        return web.json_response(
            {"name": op["name"], "done": True, "response": {"generateVideoResponse": result}}
        )

    async def download(self, request: web.Request) -> web.Response:
        await self.record(request)
        if request.headers.get("x-goog-api-key") != self.api_key:
            return invalid_key()
        return web.Response(body=MP4_STUB, content_type="video/mp4")

    async def list_models(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        if rec.headers.get("x-goog-api-key") != self.api_key:
            return invalid_key()
        models = [
            {
                "name": "models/gemini-2.5-flash",
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            },
            {"name": "models/gemini-embedding-001", "supportedGenerationMethods": ["embedContent"]},
            {"name": "models/imagen-4.0-generate-001", "supportedGenerationMethods": ["predict"]},
        ]
        return web.json_response({"models": models})


@pytest.fixture
def provider_fake() -> Iterator[FakeGemini]:
    with FakeGemini().in_thread() as fake:
        yield fake
