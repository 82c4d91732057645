"""A cheap fake OpenAI upstream for the benchmark: chat completions as JSON or as a 20-chunk SSE stream with
usage, from bytes built once at start-up, so the upstream never becomes the bottleneck being measured.

Run: ``python bench/fake_upstream.py [--port 0]``; prints ``ready <port>`` when listening.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

from aiohttp import web

MODEL = "gpt-4o-mini"
CONTENT_CHUNKS = 18  # plus the role chunk and the finish chunk: 20 chunks, then usage and [DONE]
USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": CONTENT_CHUNKS,
    "total_tokens": 12 + CONTENT_CHUNKS,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def completion_body() -> bytes:
    text = " ".join(f"word{i}" for i in range(CONTENT_CHUNKS))
    return _dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
        }
    )


def stream_events() -> list[bytes]:
    """What OpenAI sends with ``stream_options.include_usage``: ``"usage":null`` on every chunk, then a
    usage-only chunk and ``[DONE]``."""
    base = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
    }

    def event(choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> bytes:
        return b"data: " + _dumps({**base, "choices": choices, "usage": usage}) + b"\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    events = [event(choice({"role": "assistant", "content": "", "refusal": None}), None)]
    events += [
        event(choice({"content": f"word{i}" if i == 0 else f" word{i}"}), None) for i in range(CONTENT_CHUNKS)
    ]
    events.append(event(choice({}, "stop"), None))
    events.append(event([], USAGE))
    events.append(b"data: [DONE]\n\n")
    return events


class FakeUpstream:
    def __init__(self) -> None:
        self.body = completion_body()
        self.events = stream_events()

    async def chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            stream = bool(json.loads(raw).get("stream")) if raw else False
        except ValueError:
            return web.json_response(
                {"error": {"message": "bad JSON", "type": "invalid_request_error"}}, status=400
            )
        if not stream:
            return web.Response(body=self.body, content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        for event in self.events:  # one write per event, as a real upstream produces them
            await resp.write(event)
        await resp.write_eof()
        return resp


async def serve(port: int) -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", FakeUpstream().chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"ready {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
