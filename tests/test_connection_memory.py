"""What a call and a connection leave behind (docs/security.md, "Memory under load").

A connection the client closes is released at once, not after the keep-alive timeout (the idle timeout is a
loop timer, hub_core/web/hypercorn_overrides.py, not a task the connection waits for): before, each
connection a client closed while it was idle (after a whole answer, or after hanging up on a stream the hub
then finished) kept its socket, its three tasks and the last request's objects for the whole keep-alive
timeout, and the soak's abandoned calls grew the hub by hundreds of MB. And a call's request objects are
freed when it ends, not left to the cycle collector."""

from __future__ import annotations

import asyncio
import collections
import gc
import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypercorn.asyncio.tcp_server import TCPServer

from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.server import HubServer

#: the test server's keep-alive timeout is Hypercorn's default, 5 s; a released connection goes in
#: milliseconds, so waiting this long tells the two apart even on a busy machine
RELEASE_SECONDS = 2.5
ABANDONED = 150


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubServer, str]]:
    from hub_core.testing.pytest_plugin import make_settings

    with FakeOpenAI().in_thread() as fake:
        server = HubServer(make_settings(Path(tmp_path_factory.mktemp("closing")) / "data")).start()
        try:
            server.add_provider("openai", base_url=fake.base_url, credential=fake.api_key)
            yield server, server.create_key()
        finally:
            server.stop()


def open_connections(server: HubServer) -> int:
    """Connections the hub's server still holds: its per-connection tasks, and TCPServer objects alive."""

    async def count() -> int:
        return sum(1 for t in asyncio.all_tasks() if t.get_coro().__qualname__.endswith("_server_callback"))

    return server.run(count)


def live_tcp_servers(server: HubServer) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, TCPServer) and o.loop is server.loop)


def request(server: HubServer, raw: bytes, whole: bool) -> int:
    """Send `raw` on a new keep-alive connection, read the answer (whole, or only its head), then hang up."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        if whole:
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += sock.recv(65536)
        return int(data[9:12])


def chat_stream(key: str) -> bytes:
    body = json.dumps(
        {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def wait_released(server: HubServer) -> int:
    deadline = time.monotonic() + RELEASE_SECONDS
    while (held := open_connections(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


def hub_side_open(server: HubServer) -> int:
    """TCPServer objects of this hub whose socket the hub has not closed."""
    return sum(
        1
        for o in gc.get_objects()
        if isinstance(o, TCPServer) and o.loop is server.loop and not o.writer.transport.is_closing()
    )


def test_connections_closed_after_a_whole_answer_are_released_at_once(served):
    server, _ = served
    for _ in range(20):
        assert request(server, b"GET /-/health HTTP/1.1\r\nHost: hub\r\n\r\n", whole=True) == 200
    assert wait_released(server) == 0
    assert hub_side_open(server) == 0


def test_abandoned_streams_leave_no_connection_behind(served):
    server, key = served
    for _ in range(20):
        assert request(server, chat_stream(key), whole=False) == 200
    assert wait_released(server) == 0
    assert hub_side_open(server) == 0


def test_abandoned_streams_do_not_pile_up_in_memory(served):
    """What is left of a closed connection is what asyncio still holds for a while: cancelled timers keep
    the context (so the request) they were made in until the event loop purges them, which it does once
    more than half of its 100+ timers are cancelled. So far fewer connections than were made stay alive."""
    server, key = served
    for _ in range(ABANDONED):
        assert request(server, chat_stream(key), whole=False) == 200
    wait_released(server)
    assert live_tcp_servers(server) < ABANDONED // 3


def test_a_call_leaves_no_reference_cycle_of_its_request(served):
    """Quart's request refers back to the hub's per-request handler; the handler lets go of the request when
    the call ends, so reference counting frees both (before: about 40 objects a call for the collector)."""
    server, key = served
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    garbage: collections.Counter[str] = collections.Counter()
    gc.collect()
    gc.disable()
    try:
        # enough calls for the event loop to purge its cancelled timers, which hold each call's context
        for stream in (False, True) * 60:
            body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
            conn.request("POST", "/v1/chat/completions", json.dumps(body | {"stream": stream}), headers)
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 200
        time.sleep(0.5)  # the calls' last callbacks (the usage log's, the body reader's end) have run
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage.update(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        conn.close()
    assert not {"HubRequest", "HubHTTPConnection", "Body", "RequestInfo"} & set(garbage), garbage
