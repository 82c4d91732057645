"""The baseline the hub is measured against: a minimal Quart + Hypercorn pass-through. No auth, no routing,
no logging: it forwards the POST body to the upstream with one pooled aiohttp session and returns or streams
the answer. Served with the same Quart and Hypercorn settings as ``aigne-hub serve``.

Run: ``python bench/passthrough.py --upstream http://127.0.0.1:PORT/v1 [--port 0]``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
from collections.abc import AsyncIterator

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
        body = await request.get_data(cache=False)
        resp = await session["s"].post(url, data=body, headers={"Content-Type": "application/json"})
        if not resp.headers.get("Content-Type", "").startswith("text/event-stream"):
            try:
                data = await resp.read()
            finally:
                resp.release()
            return Response(data, status=resp.status, content_type="application/json")

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for piece in resp.content.iter_any():
                    yield piece
            finally:
                resp.close()

        return Response(relay(), content_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app


async def main_async(port: int, upstream: str) -> None:
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
    await serve(create_app(upstream), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    asyncio.run(main_async(args.port, args.upstream))


if __name__ == "__main__":
    main()
