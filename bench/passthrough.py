"""The baseline the hub is measured against: a minimal Quart + Hypercorn pass-through. No auth, no routing,
no logging: it forwards the POST body to the upstream with one pooled aiohttp session and returns or streams
the answer. Served with the same Quart and Hypercorn settings as ``aigne-hub serve``.

With ``--raw`` the same forwarding is a bare ASGI app under the same Hypercorn settings, without Quart: not
a baseline the hub is held to, but the measure of what the framework itself costs (``bench/run.py --targets
raw,passthrough``).

Run: ``python bench/passthrough.py --upstream http://127.0.0.1:PORT/v1 [--port 0] [--raw]``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, Response, request


def create_app(upstream: str) -> Quart:
    app = Quart("passthrough")
    app.config.update(RESPONSE_TIMEOUT=None, BODY_TIMEOUT=120, MAX_CONTENT_LENGTH=30 << 20)
    session: dict[str, aiohttp.ClientSession] = {}
    url = upstream.rstrip("/") + "/chat/completions"

    @app.before_serving
    async def _open() -> None:
        session["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    @app.after_serving
    async def _close() -> None:
        await session["s"].close()

    @app.get("/-/health")
    async def health() -> Response:
        return Response(b'{"status":"ok"}', content_type="application/json")

    @app.post("/v1/chat/completions")
    async def chat() -> Response:
        resp, data = await forward(session["s"], url, await request.get_data(cache=False))
        if data is not None:
            return Response(data, status=resp.status, content_type="application/json")

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for piece in resp.content.iter_any():
                    yield piece
            finally:
                resp.close()

        return Response(relay(), content_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app


async def forward(
    session: aiohttp.ClientSession, url: str, body: bytes
) -> tuple[aiohttp.ClientResponse, bytes | None]:
    """POST the body upstream. A JSON answer comes back read (and its connection released); a stream comes
    back unread (None), for the caller to relay and close."""
    resp = await session.post(url, data=body, headers={"Content-Type": "application/json"})
    if resp.headers.get("Content-Type", "").startswith("text/event-stream"):
        return resp, None
    try:
        return resp, await resp.read()
    finally:
        resp.release()


def create_raw_app(upstream: str) -> Any:
    """`create_app`'s forwarding as a bare ASGI callable: the body read from the messages, the answer sent as
    messages; nothing else (GET is the health check)."""
    url = upstream.rstrip("/") + "/chat/completions"
    session: dict[str, aiohttp.ClientSession] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                session["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
                await send({"type": "lifespan.startup.complete"})
            await session["s"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "GET":
            await _answer(send, 200, b"application/json", b'{"status":"ok"}')
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        resp, data = await forward(session["s"], url, body)
        if data is not None:
            await _answer(send, resp.status, b"application/json", data)
            return
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [SSE_TYPE, NO_CACHE]})
            async for piece in resp.content.iter_any():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            resp.close()

    return app


SSE_TYPE = (b"content-type", b"text/event-stream")
NO_CACHE = (b"cache-control", b"no-cache")


async def _answer(send: Any, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def main_async(port: int, upstream: str, raw: bool = False) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    config = Config()
    config.bind = [f"127.0.0.1:{sock.getsockname()[1]}"]
    sock.close()
    config.accesslog = None
    config.keep_alive_timeout = 75
    config.graceful_timeout = 10
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"ready {config.bind[0].rsplit(':', 1)[1]}", flush=True)
    app = create_raw_app(upstream) if raw else create_app(upstream)
    await serve(app, config, shutdown_trigger=stop.wait)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--raw", action="store_true", help="a bare ASGI app instead of Quart")
    args = parser.parse_args()
    asyncio.run(main_async(args.port, args.upstream, args.raw))


if __name__ == "__main__":
    main()
