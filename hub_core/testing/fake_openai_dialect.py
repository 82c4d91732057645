"""A configurable fake of an OpenAI-dialect vendor (DeepSeek, xAI, OpenRouter, Poe, Doubao ...).

It speaks Chat Completions (JSON and SSE with ``stream_options.include_usage``), embeddings and image
generation, follows the conformance scenario contract (`hub_core.testing.fake_server`), and leaves each
vendor's differences to small overrides: the error body (`error_response`), the usage object
(`usage_object`), ``reasoning_content`` (`reasoning_for`), and request checks (`check_request`).
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from aiohttp import web

from hub_core.testing.fake_openai import STREAM_ERROR_EVENT, embeddings_reply, prompt_tokens, sse_chunk
from hub_core.testing.fake_server import (
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

#: the standard usage a conforming fake reports for the ``usage-details`` model
DETAIL_PROMPT, DETAIL_COMPLETION, DETAIL_CACHED, DETAIL_REASONING = 100, 50, 40, 20


def conversation_facts(messages: list[dict[str, Any]]) -> tuple[str, list[str], str | None, str | None]:
    """(last user text, its image mime types, system text, trailing tool result) of an OpenAI conversation."""
    last_text, images, system, tool_result = "", [], None, None
    for msg in messages:
        role, content = msg.get("role"), msg.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else (content or [])
        text = "".join(p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text")
        if role in ("system", "developer") and system is None:
            system = text
        elif role == "user":
            last_text, images = text, []
            for p in parts:
                if isinstance(p, dict) and p.get("type") == "image_url":
                    url = (p.get("image_url") or {}).get("url", "")
                    images.append(url[5:].split(";", 1)[0] if url.startswith("data:") else "image/url")
    if messages and messages[-1].get("role") == "tool":
        tool_result = str(messages[-1].get("content") or "")
    return last_text, images, system, tool_result


class OpenAIDialectFake(FakeServer):
    base_path = "/v1"
    chat_path = "/chat/completions"
    embeddings_path = "/embeddings"
    images_path = "/images/generations"
    models_path = "/models"
    model_ids: tuple[str, ...] = ("fake-model",)
    #: whether the vendor sends a Retry-After header with its 429s
    sends_retry_after = True

    def __init__(self, api_key: str = "sk-fake-vendor-key", chunk_delay: float = 0.0) -> None:
        super().__init__()
        self.api_key = api_key
        self.chunk_delay = chunk_delay

    def routes(self, app: web.Application) -> None:
        p = self.base_path
        app.router.add_post(p + self.chat_path, self.chat)
        app.router.add_post(p + self.embeddings_path, self.embeddings)
        app.router.add_post(p + self.images_path, self.images)
        app.router.add_get(p + self.models_path, self.models)

    # --- vendor differences (override) ---------------------------------------------------------------------

    def error_response(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        etype = {401: "invalid_request_error", 429: "rate_limit_error", 400: "invalid_request_error"}
        body = {"error": {"message": message, "type": etype.get(status, "server_error"), "code": None}}
        return web.json_response(body, status=status, headers=headers)

    def authorized(self, rec: Recorded) -> bool:
        return rec.headers.get("Authorization") == f"Bearer {self.api_key}"

    def check_request(self, rec: Recorded) -> web.Response | None:
        """Vendor-specific request checks; return an error response to refuse the request."""
        return None

    def usage_object(self, prompt: int, completion: int, cached: int, reasoning: int) -> dict[str, Any]:
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }

    def reasoning_for(self, model: str) -> str | None:
        """The ``reasoning_content`` the vendor returns for this model (None: not a reasoning model)."""
        return None

    # --- admission -----------------------------------------------------------------------------------------

    async def admit(self, request: web.Request) -> tuple[dict[str, Any] | None, web.StreamResponse | None]:
        rec = await self.record(request)
        if not self.authorized(rec):
            return None, self.error_response(401, "Incorrect API key provided.")
        if rec.json is None or not isinstance(rec.json, dict):
            return None, self.error_response(400, "We could not parse the JSON body of your request.")
        refused = self.check_request(rec)
        if refused is not None:
            return None, refused
        failure = self.pop_failure()
        if failure is not None:
            return None, self.error_response(failure.status, failure.message, failure.headers)
        model = str(rec.json.get("model") or "")
        if not model:
            return None, self.error_response(400, "you must provide a model parameter")
        if model.endswith(FAIL_401):
            return None, self.error_response(401, "Incorrect API key provided.")
        if model.endswith(FAIL_429):
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if self.sends_retry_after else {}
            return None, self.error_response(429, "Rate limit reached for requests", headers)
        if model.endswith(FAIL_500):
            return None, self.error_response(500, "The server had an error while processing your request.")
        if model.endswith(MALFORMED):
            return None, web.Response(
                body=b'{"id": "chatcmpl-1", "choices": [', content_type="application/json"
            )
        return rec.json, None

    # --- endpoints -----------------------------------------------------------------------------------------

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body, failed = await self.admit(request)
        if failed is not None:
            return failed
        assert body is not None
        model = str(body["model"])
        messages = body.get("messages") or []
        text = reply_text(*conversation_facts(messages))
        call = None
        if body.get("tools") and body.get("tool_choice") != "none" and messages[-1].get("role") != "tool":
            name = body["tools"][0]["function"]["name"]
            call = {
                "id": "call_fake_1",
                "type": "function",
                "function": {"name": name, "arguments": '{"city": "Paris"}'},
            }
        prompt = prompt_tokens(messages)
        completion, cached, reasoning_tokens = len(text.split()), 0, 0
        if model.endswith(USAGE_DETAILS):
            prompt, completion, cached, reasoning_tokens = (
                DETAIL_PROMPT,
                DETAIL_COMPLETION,
                DETAIL_CACHED,
                DETAIL_REASONING,
            )
        usage = self.usage_object(prompt, completion, cached, reasoning_tokens)
        reasoning = self.reasoning_for(model)
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": None if call else text}
            if reasoning:
                message["reasoning_content"] = reasoning
            if call:
                message["tool_calls"] = [call]
            return web.json_response(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "logprobs": None,
                            "finish_reason": "tool_calls" if call else "stop",
                        }
                    ],
                    "usage": usage,
                    "system_fingerprint": "fp_fake",
                }
            )
        return await self._stream_chat(request, body, model, text, call, reasoning, usage)

    async def _stream_chat(
        self,
        request: web.Request,
        body: dict[str, Any],
        model: str,
        text: str,
        call: dict[str, Any] | None,
        reasoning: str | None,
        usage: dict[str, Any],
    ) -> web.StreamResponse:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await resp.prepare(request)
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            await resp.write(sse_chunk(chunk))
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)

        try:
            await resp.write(b": keep-alive\n\n")  # vendors send SSE comments while a request waits
            await send({"role": "assistant", "content": ""})
            if reasoning:
                for piece in words_of(reasoning):
                    await send({"reasoning_content": piece, "content": None})
            if call:
                first = {**call, "index": 0, "function": {"name": call["function"]["name"], "arguments": ""}}
                await send({"tool_calls": [first]})
                args = call["function"]["arguments"]
                for part in (args[: len(args) // 2], args[len(args) // 2 :]):
                    await send({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            else:
                for i, piece in enumerate(words_of(text)):
                    if model.endswith(STREAM_ERROR) and i == 2:
                        await resp.write(self.stream_error_event())
                        return resp
                    await send({"content": piece})
            await send({}, "tool_calls" if call else "stop")
            if include_usage:
                await resp.write(sse_chunk({**base, "choices": [], "usage": usage}))
            await resp.write(b"data: [DONE]\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise
        return resp

    def stream_error_event(self) -> bytes:
        return STREAM_ERROR_EVENT

    async def embeddings(self, request: web.Request) -> web.Response:
        body, failed = await self.admit(request)
        if failed is not None:
            return failed
        assert body is not None
        return web.json_response(embeddings_reply(body))

    def image_item(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("response_format") == "b64_json":
            return {"b64_json": base64.b64encode(PNG_1PX).decode()}
        return {"url": f"http://127.0.0.1:{self.port}/files/fake.png"}

    def image_extras(self, body: dict[str, Any], count: int) -> dict[str, Any]:
        return {}

    async def images(self, request: web.Request) -> web.Response:
        body, failed = await self.admit(request)
        if failed is not None:
            return failed
        assert body is not None
        n = int(body.get("n") or 1)
        payload = {"created": int(time.time()), "data": [self.image_item(body) for _ in range(n)]}
        payload.update(self.image_extras(body, n))
        return web.json_response(payload)

    async def models(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        if not self.authorized(rec):
            return self.error_response(401, "Incorrect API key provided.")
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in self.model_ids
        ]
        return web.json_response({"object": "list", "data": data})
