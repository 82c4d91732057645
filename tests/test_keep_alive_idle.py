"""Keep-alive connections under `hypercorn_overrides.IdleTimer` (one loop timer instead of tasks per request)
behave as Hypercorn's own idle handling does: reused while requests come, closed after `keep_alive_timeout`
of idleness, and closed at once when the server shuts down instead of holding it for `graceful_timeout`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

from hub_core.web import hypercorn_overrides

REQUEST = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Server:
    def __init__(self, port: int, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
        self.port, self.stop, self.task = port, stop, task

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


async def start(port: int, keep_alive: float) -> Server:
    hypercorn_overrides.install()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.keep_alive_timeout = keep_alive
    config.graceful_timeout = 30  # far above what any test waits: a server held by an idle connection fails
    stop = asyncio.Event()
    task = asyncio.create_task(serve(hello, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    return Server(port, stop, task)


@pytest.fixture
async def server(unused_tcp_port: int) -> AsyncIterator[Server]:
    srv = await start(unused_tcp_port, keep_alive=0.6)
    yield srv
    srv.stop.set()
    await asyncio.wait_for(srv.task, 10)


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(REQUEST)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200")
    return await asyncio.wait_for(reader.readexactly(2), 5)


async def test_a_connection_is_reused_while_requests_keep_coming(server: Server):
    reader, writer = await server.connect()
    for _ in range(6):  # 6 times 0.25 s: longer than the idle timeout in all, never idle that long at once
        assert await ask(reader, writer) == b"ok"
        await asyncio.sleep(0.25)
    assert not reader.at_eof()
    writer.close()


async def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(server: Server):
    reader, writer = await server.connect()
    assert await ask(reader, writer) == b"ok"
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server closed it
    assert 0.4 < time.monotonic() - started < 3.0
    writer.close()
    assert not any(hypercorn_overrides._IDLE.values()), "a closed connection left its timer registered"


async def test_idle_connections_do_not_hold_the_server_at_shutdown(unused_tcp_port: int):
    server = await start(unused_tcp_port, keep_alive=20)
    connections = [await server.connect() for _ in range(3)]
    for reader, writer in connections:
        assert await ask(reader, writer) == b"ok"
    started = time.monotonic()
    server.stop.set()
    await asyncio.wait_for(server.task, 10)
    assert time.monotonic() - started < 2.0  # neither the keep-alive nor the graceful timeout
    for reader, writer in connections:
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
