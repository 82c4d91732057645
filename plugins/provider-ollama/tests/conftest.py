"""A fake Ollama server on a real socket, built from Ollama's API reference (``docs/api.md``).

It speaks ``/api/chat`` (one JSON object, or NDJSON lines when streaming, which is Ollama's default),
``/api/embed`` and ``/api/tags``, checks the request shape Ollama expects (base64 images on the message, tool
arguments as objects, tool results with ``tool_name``) and follows the conformance scenario contract.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
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

ROLES = {"system", "user", "assistant", "tool"}


def sniff(data: str) -> str:
    raw = base64.b64decode(data, validate=True)
    if raw.startswith(b"\x89PNG"):
        return "image/png"
    if raw.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return "application/octet-stream"


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class FakeOllama(FakeServer):
    base_path = "/api"

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/chat", self.chat)
        app.router.add_post("/api/embed", self.embed)
        app.router.add_get("/api/tags", self.tags)

    async def admit(self, request: web.Request) -> tuple[Recorded, web.Response | None]:
        rec = await self.record(request)
        if self.api_key and rec.headers.get("Authorization") != f"Bearer {self.api_key}":
            return rec, error(401, "unauthorized")
        if not isinstance(rec.json, dict):
            return rec, error(400, "invalid character 'x' looking for beginning of value")
        failure = self.pop_failure()
        if failure is not None:
            return rec, web.json_response(
                {"error": failure.message}, status=failure.status, headers=failure.headers
            )
        model = str(rec.json.get("model") or "")
        if not model:
            return rec, error(400, "model is required")
        if model == FAIL_401:
            return rec, error(401, "unauthorized")
        if model == FAIL_429:
            return rec, error(429, "too many concurrent requests")
        if model == FAIL_500:
            return rec, error(500, "llama runner process has terminated: exit status 2")
        if model == "missing":
            return rec, error(404, f'model "{model}" not found, try pulling it first')
        if model == MALFORMED:
            return rec, web.Response(
                body=b'{"model": "malformed", "message": {', content_type="application/json"
            )
        return rec, None

    def check_messages(self, messages: Any) -> str | None:
        if not isinstance(messages, list):
            return "messages must be an array"
        for msg in messages:
            if msg.get("role") not in ROLES or not isinstance(msg.get("content", ""), str):
                return f"invalid message: {msg}"
            for img in msg.get("images") or []:
                try:
                    sniff(img)
                except (binascii.Error, ValueError):
                    return "illegal base64 data in images"
            for call in msg.get("tool_calls") or []:
                if not isinstance((call.get("function") or {}).get("arguments"), dict):
                    return (
                        "json: cannot unmarshal string into Go struct field .arguments of type map[string]any"
                    )
        return None

    async def chat(self, request: web.Request) -> web.StreamResponse:
        rec, failed = await self.admit(request)
        if failed is not None:
            return failed
        body = rec.json
        problem = self.check_messages(body.get("messages"))
        if problem:
            return error(400, problem)
        messages = body["messages"]
        model = body["model"]
        last_text, images, system, tool_result = "", [], None, None
        for msg in messages:
            if msg["role"] == "system" and system is None:
                system = msg["content"]
            elif msg["role"] == "user":
                last_text, images = msg["content"], [sniff(i) for i in msg.get("images") or []]
        if messages and messages[-1]["role"] == "tool":
            tool_result = messages[-1]["content"]
        text = reply_text(last_text, images, system, tool_result)
        call = None
        if body.get("tools") and tool_result is None:
            call = {
                "function": {"name": body["tools"][0]["function"]["name"], "arguments": {"city": "Paris"}}
            }
        thinking = "Let me think." if body.get("think") else None
        prompt, completion = sum(len(m["content"].split()) + 3 for m in messages), len(text.split())
        if model == USAGE_DETAILS:
            prompt, completion = 100, 50
        final = {
            "done": True,
            "done_reason": "stop",
            "total_duration": 5191566416,
            "load_duration": 2154458,
            "prompt_eval_count": prompt,
            "prompt_eval_duration": 383809000,
            "eval_count": completion,
            "eval_duration": 4799921000,
        }
        created = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        if body.get("stream") is False:
            message: dict[str, Any] = {"role": "assistant", "content": "" if call else text}
            if thinking:
                message["thinking"] = thinking
            if call:
                message["tool_calls"] = [call]
            return web.json_response({"model": model, "created_at": created, "message": message, **final})
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)

        async def line(obj: dict[str, Any]) -> None:
            await resp.write(json.dumps({"model": model, "created_at": created, **obj}).encode() + b"\n")

        if thinking:
            await line({"message": {"role": "assistant", "content": "", "thinking": thinking}, "done": False})
        if call:
            await line({"message": {"role": "assistant", "content": "", "tool_calls": [call]}, "done": False})
        else:
            for i, piece in enumerate(words_of(text)):
                if model == STREAM_ERROR and i == 2:
                    await resp.write(
                        b'{"error":"an error was encountered while running the model mid-stream"}\n'
                    )
                    return resp
                await line({"message": {"role": "assistant", "content": piece}, "done": False})
        await line({"message": {"role": "assistant", "content": ""}, **final})
        return resp

    async def embed(self, request: web.Request) -> web.Response:
        rec, failed = await self.admit(request)
        if failed is not None:
            return failed
        inputs = rec.json.get("input")
        items = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(rec.json.get("dimensions") or 6)
        vectors = [[round(((len(item) + j) % 5) / 5 - 0.4, 6) for j in range(dims)] for item in items]
        return web.json_response(
            {
                "model": rec.json["model"],
                "embeddings": vectors,
                "total_duration": 14143917,
                "load_duration": 1019500,
                "prompt_eval_count": sum(len(i.split()) for i in items),
            }
        )

    async def tags(self, request: web.Request) -> web.Response:
        await self.record(request)
        models = [
            {
                "name": n,
                "model": n,
                "size": 2019393189,
                "digest": "a80c4f17acd5",
                "details": {"family": "llama"},
            }
            for n in ("llama3.2:latest", "nomic-embed-text:latest")
        ]
        return web.json_response({"models": models})


@pytest.fixture
def provider_fake() -> Iterator[FakeOllama]:
    with FakeOllama().in_thread() as fake:
        yield fake


@pytest.fixture
def keyed_ollama() -> Iterator[FakeOllama]:
    """An Ollama behind an API key (ollama.com, or a proxy that checks Bearer tokens)."""
    with FakeOllama(api_key="ollama-cloud-key").in_thread() as fake:
        yield fake
