"""A local fake of the OpenAI REST API on a real socket, for tests and benchmarks.

It speaks the real wire format (chat completions as JSON and SSE with ``stream_options.include_usage``, tool
calls, embeddings as float or base64, images (generations, and multipart edits), models, and OpenAI's error
bodies) and fails on command: the model name picks the behaviour (``fail-429``, ``fail-500``, ``fail-401``,
``slow-<seconds>``, ``malformed``, ``stream-error``, ``tool``, ``reasoning-*`` which reasons first,
``image-chat-*`` which also draws, ``fail-video``), or tests push one-shot failures with
`FakeOpenAI.fail_next`. Video jobs (``/videos``) finish after two polls.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from hub_core.testing.fake_server import PNG_1PX, FakeUpstream

#: the first bytes of an MP4 file (an ``ftyp`` box), enough for type sniffing
MP4_STUB = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64

#: the event OpenAI-dialect upstreams send when an answer fails mid-stream
_MID_STREAM_ERROR = {"error": {"message": "The server had an error mid-stream", "type": "server_error"}}
STREAM_ERROR_EVENT = b"data: " + json.dumps(_MID_STREAM_ERROR).encode() + b"\n\n"


def sse_chunk(obj: Any) -> bytes:
    """One SSE ``data:`` event with compact JSON, as OpenAI sends its stream chunks."""
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """A stable, roughly word-sized prompt token count (enough to check usage arithmetic end to end)."""
    return sum(len(json.dumps(m.get("content", "")).split()) for m in messages) + 3 * len(messages)


def embeddings_reply(body: dict[str, Any]) -> dict[str, Any]:
    """The embeddings answer to a request body: ``dimensions`` (default 8) values per input, derived from the
    input's length, as floats or as base64 little-endian float32 (``encoding_format``)."""
    inputs = body.get("input")
    items = [inputs] if isinstance(inputs, str) else list(inputs or [])
    dims = int(body.get("dimensions") or 8)
    data = []
    for i, item in enumerate(items):
        vector = [round(((len(str(item)) + j) % 7) / 7 - 0.5, 6) for j in range(dims)]
        emb: Any = vector
        if body.get("encoding_format") == "base64":
            emb = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": emb})
    tokens = sum(len(str(x).split()) for x in items)
    return {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _error(
    status: int, message: str, etype: str, code: str | None = None, headers: dict[str, str] | None = None
):
    body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _words(messages: list[dict[str, Any]]) -> list[str]:
    last = ""
    for msg in messages:
        if msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            last = str(content or "")
    return f"Echo: {last}".split(" ")


class FakeOpenAI(FakeUpstream):
    """``async with FakeOpenAI() as fake: fake.base_url`` → ``http://127.0.0.1:<port>/v1``."""

    base_path = "/v1"

    def __init__(self, api_key: str | None = "sk-fake-openai-key", chunk_delay: float = 0.0) -> None:
        super().__init__()
        self.api_key = api_key
        self.chunk_delay = chunk_delay
        #: ``{"path", "headers", "body"}`` of every request, in order
        self.requests: list[dict[str, Any]] = []
        #: reported in chat usage details (prompt cache hits, reasoning), so tests can check they are logged
        self.cached_tokens = 0
        self.reasoning_tokens = 0
        #: the exact bytes of every SSE response body sent, one entry per stream (for pass-through checks)
        self.streams: list[bytearray] = []
        #: video jobs by id; each poll moves a job one step: queued -> in_progress -> completed
        #: (model ``fail-video``: -> failed)
        self.videos: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_post("/v1/images/generations", self.images)
        app.router.add_post("/v1/images/edits", self.image_edits)
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/videos", self.create_video)
        app.router.add_get("/v1/videos/{video_id}", self.get_video)
        app.router.add_get("/v1/videos/{video_id}/content", self.video_content)

    # --- helpers ------------------------------------------------------------------------------------------

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        """OpenAI's 401 when a key is configured and the request does not carry it."""
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        return None

    def _queued_failure(self) -> web.Response | None:
        failure = self.pop_failure()
        if failure is None:
            return None
        return _error(failure.status, failure.message, _etype(failure.status), None, failure.headers)

    async def _admit(self, request: web.Request) -> tuple[dict[str, Any] | None, web.Response | None]:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return None, _error(
                400, "We could not parse the JSON body of your request.", "invalid_request_error"
            )
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        refused = self._unauthorized(request)
        if refused is None:
            refused = self._queued_failure()
        if refused is not None:
            return None, refused
        return await self._by_model(body)

    async def _by_model(self, body: dict[str, Any]) -> tuple[dict[str, Any] | None, web.Response | None]:
        """The failure modes the model name picks (see the module docstring)."""
        model = str(body.get("model", ""))
        if not model:
            return None, _error(400, "you must provide a model parameter", "invalid_request_error")
        if model == "fail-429":
            return None, _error(
                429, "Rate limit reached", "requests", "rate_limit_exceeded", {"Retry-After": "7"}
            )
        if model == "fail-500":
            return None, _error(500, "The server had an error while processing your request.", "server_error")
        if model == "fail-401":
            return None, _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        if model == "missing-model":
            return None, _error(
                404, f"The model `{model}` does not exist", "invalid_request_error", "model_not_found"
            )
        if model.startswith("slow-"):
            await asyncio.sleep(float(model.split("-", 1)[1]))
        if model == "malformed":
            return None, web.Response(body=b"{not json", content_type="application/json")
        return body, None

    # --- endpoints ----------------------------------------------------------------------------------------

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body, failed = await self._admit(request)
        if failed is not None:
            return failed
        assert body is not None
        messages = body.get("messages") or []
        model = body["model"]
        created = int(time.time())
        prompt = prompt_tokens(messages)
        tool_call = None
        answered_tool = (
            bool(messages) and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool"
        )
        if body.get("tools") and body.get("tool_choice") != "none" and not answered_tool:
            fn = body["tools"][0]["function"]["name"]
            tool_call = {
                "id": "call_fake_1",
                "type": "function",
                "function": {"name": fn, "arguments": json.dumps({"city": "Paris"})},
            }
        words = _words(messages)
        fmt = body.get("response_format") or {}
        if fmt.get("type") in ("json_object", "json_schema"):
            words = [json.dumps({"answer": " ".join(words)})]
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": len(words),
            "total_tokens": prompt + len(words),
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        # models named reasoning-* think aloud first, in DeepSeek's `reasoning_content` field
        thinking = f"Thinking about: {' '.join(words[1:])}" if model.startswith("reasoning") else None
        # models named image-chat-* also answer a picture, as OpenRouter's image models do (`images`)
        png = f"data:image/png;base64,{base64.b64encode(PNG_1PX).decode()}"
        drawn = [{"type": "image_url", "image_url": {"url": png}}] if model.startswith("image-chat") else None
        if not body.get("stream"):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None if tool_call else " ".join(words),
                "refusal": None,
                "annotations": [],
            }
            if thinking:
                message["reasoning_content"] = thinking
            if drawn:
                message["images"] = drawn
            if tool_call:
                message["tool_calls"] = [tool_call]
            return web.json_response(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "logprobs": None,
                            "finish_reason": "tool_calls" if tool_call else "stop",
                        }
                    ],
                    "usage": usage,
                    "service_tier": "default",
                    "system_fingerprint": "fp_fake",
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        sent = bytearray()
        self.streams.append(sent)

        async def write(data: bytes) -> None:
            await resp.write(data)
            sent.extend(data)

        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
        }

        async def send(choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
            chunk = {**base, "choices": choices}
            if include_usage:
                chunk["usage"] = None
            if extra:
                chunk.update(extra)
            await write(sse_chunk(chunk))
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)

        try:
            await send(
                [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": "", "refusal": None},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ]
            )
            if thinking:
                delta = {"reasoning_content": thinking}
                await send([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])
            if drawn:
                await send(
                    [{"index": 0, "delta": {"images": drawn}, "logprobs": None, "finish_reason": None}]
                )
            if tool_call:
                first = {
                    "index": 0,
                    "id": tool_call["id"],
                    "type": "function",
                    "function": {"name": tool_call["function"]["name"], "arguments": ""},
                }
                await send(
                    [{"index": 0, "delta": {"tool_calls": [first]}, "logprobs": None, "finish_reason": None}]
                )
                args = tool_call["function"]["arguments"]
                for part in (args[: len(args) // 2], args[len(args) // 2 :]):
                    delta = {"tool_calls": [{"index": 0, "function": {"arguments": part}}]}
                    await send([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])
            else:
                for i, word in enumerate(words):
                    if model == "stream-cut" and i == 2:
                        return resp  # the connection ends mid-answer: no finish_reason, no [DONE]
                    if model == "stream-error" and i == 2:
                        await write(STREAM_ERROR_EVENT)
                        return resp
                    text = word if i == 0 else " " + word
                    await send(
                        [{"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}]
                    )
            await send(
                [
                    {
                        "index": 0,
                        "delta": {},
                        "logprobs": None,
                        "finish_reason": "tool_calls" if tool_call else "stop",
                    }
                ]
            )
            if include_usage:
                await write(sse_chunk({**base, "choices": [], "usage": usage}))
            await write(b"data: [DONE]\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise
        return resp

    async def embeddings(self, request: web.Request) -> web.Response:
        body, failed = await self._admit(request)
        if failed is not None:
            return failed
        assert body is not None
        return web.json_response(embeddings_reply(body))

    async def images(self, request: web.Request) -> web.Response:
        body, failed = await self._admit(request)
        if failed is not None:
            return failed
        assert body is not None
        return web.json_response(self._images_reply(body))

    def _images_reply(self, body: dict[str, Any], image_tokens: int = 0) -> dict[str, Any]:
        """The generations and edits answer: ``n`` pictures, base64 for GPT Image models (with usage) or when
        asked, else URLs."""
        n = int(body.get("n") or 1)
        as_b64 = body.get("response_format") == "b64_json" or str(body["model"]).startswith("gpt-image")
        item = (
            {"b64_json": base64.b64encode(PNG_1PX).decode()}
            if as_b64
            else {"url": f"http://127.0.0.1:{self.port}/files/fake.png"}
        )
        payload: dict[str, Any] = {"created": int(time.time()), "data": [dict(item) for _ in range(n)]}
        if str(body["model"]).startswith("gpt-image"):
            payload["usage"] = {
                "input_tokens": 10 + image_tokens,
                "output_tokens": 100 * n,
                "total_tokens": 10 + image_tokens + 100 * n,
                "input_tokens_details": {"text_tokens": 10, "image_tokens": image_tokens},
            }
        return payload

    async def _multipart(self, request: web.Request) -> tuple[Any, web.Response | None]:
        """The form of an authorised multipart request, or the refusal OpenAI would send."""
        refused = self._unauthorized(request)
        if refused is None and not request.content_type.startswith("multipart/"):
            refused = _error(400, "Expected a multipart/form-data body.", "invalid_request_error")
        return (None, refused) if refused is not None else (await request.post(), None)

    async def image_edits(self, request: web.Request) -> web.Response:
        """``POST /images/edits``: a multipart form with ``image`` (or repeated ``image[]``), ``prompt``, the
        optional ``mask`` and generation fields. Recorded with each file's name, type and bytes."""
        form, refused = await self._multipart(request)
        if refused is not None:
            return refused
        record: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        images = [
            {"field": key, **_file_record(v)}
            for key in ("image", "image[]")
            for v in form.getall(key, [])
            if isinstance(v, web.FileField)
        ]
        record["images"] = images
        mask = form.get("mask")
        if isinstance(mask, web.FileField):
            record["mask"] = _file_record(mask)
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": record})
        refused = self._queued_failure()
        if refused is not None:
            return refused
        if not images:
            return _error(400, "Missing required parameter: 'image'.", "invalid_request_error")
        if not record.get("prompt"):
            return _error(400, "Missing required parameter: 'prompt'.", "invalid_request_error")
        record.setdefault("model", "dall-e-2")
        if record["model"] == "dall-e-2" and len(images) > 1:
            return _error(400, "dall-e-2 accepts only one image.", "invalid_request_error")
        body, failed = await self._by_model(record)
        if failed is not None:
            return failed
        assert body is not None
        return web.json_response(self._images_reply(body, image_tokens=50 * len(images)))

    async def models(self, request: web.Request) -> web.Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        ids = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "dall-e-3", "gpt-image-1"]
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": i, "object": "model", "created": 1700000000, "owned_by": "openai"} for i in ids
                ],
            }
        )

    # --- videos (the Videos API: multipart create, poll, download) ----------------------------------------

    async def create_video(self, request: web.Request) -> web.Response:
        form, refused = await self._multipart(request)
        if refused is not None:
            return refused
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        reference = form.get("input_reference")
        record: dict[str, Any] = dict(fields)
        if reference is not None and not isinstance(reference, str):
            record["input_reference"] = {"filename": reference.filename, "size": len(reference.file.read())}
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": record})
        refused = self._queued_failure()
        if refused is not None:
            return refused
        if not fields.get("prompt"):
            return _error(400, "Missing required parameter: 'prompt'.", "invalid_request_error")
        video_id = f"video_fake_{len(self.videos) + 1}"
        self.videos[video_id] = {
            "id": video_id,
            "object": "video",
            "model": fields.get("model") or "sora-2",
            "status": "queued",
            "progress": 0,
            "created_at": int(time.time()),
            "completed_at": None,
            "expires_at": None,
            "error": None,
            "prompt": fields["prompt"],
            "remixed_from_video_id": None,
            "seconds": fields.get("seconds") or "4",
            "size": fields.get("size") or "720x1280",
        }
        return web.json_response(self.videos[video_id])

    async def get_video(self, request: web.Request) -> web.Response:
        job = self.videos.get(request.match_info["video_id"])
        if job is None:
            return _error(404, "Video not found.", "invalid_request_error", "not_found")
        if job["status"] == "queued":
            job.update(status="in_progress", progress=50)
        elif job["status"] == "in_progress" and job["model"] == "fail-video":
            job.update(status="failed", error={"code": "moderation_blocked", "message": "fake render failed"})
        elif job["status"] == "in_progress":
            job.update(status="completed", progress=100, completed_at=int(time.time()))
        return web.json_response(job)

    async def video_content(self, request: web.Request) -> web.Response:
        job = self.videos.get(request.match_info["video_id"])
        if job is None or job["status"] != "completed":
            return _error(404, "Video is not ready.", "invalid_request_error", "not_found")
        return web.Response(body=MP4_STUB, content_type="video/mp4")


def _etype(status: int) -> str:
    return {400: "invalid_request_error", 401: "invalid_request_error", 429: "requests"}.get(
        status, "server_error"
    )


def _file_record(field: web.FileField) -> dict[str, Any]:
    """What a test sees of an uploaded file: its name, type and bytes."""
    return {"filename": field.filename, "content_type": field.content_type, "data": field.file.read()}


@contextlib.contextmanager
def fake_in_thread(fake: FakeOpenAI | None = None) -> Iterator[FakeOpenAI]:
    """Run a fake in its own thread and event loop (for sync tests that need a second, differently
    configured upstream, e.g. ``FakeOpenAI(api_key=None)`` accepting any key)."""
    with (fake or FakeOpenAI()).in_thread() as running:
        yield running


async def main(port: int) -> None:
    fake = await FakeOpenAI(api_key=None).start(port)
    print(f"fake OpenAI on {fake.base_url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import sys

    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8099))
