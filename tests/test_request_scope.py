"""The ASGI layer every request passes first (`hub_core.web.request_scope`): request ids on every answer,
including the ones Quart makes itself, and the ids the hub adopts from clients."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import uuid
from urllib.parse import urlsplit

import pytest
from quart import request

from hub_core.pipeline.context import MAX_REQUEST_ID, request_id_from
from hub_core.testing.pytest_plugin import make_settings
from hub_core.types import random_id
from hub_core.web.app import create_app
from hub_core.web.request_scope import read_headers

HELLO = json.dumps({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})


def ask(url: str, method: str, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    body = HELLO if method == "POST" else None
    conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_every_answer_carries_a_request_id(hub):
    auth = {"Authorization": f"Bearer {hub.create_key()}"}
    answers = [
        ask(hub.url, "POST", "/v1/chat/completions", auth),
        ask(hub.url, "POST", "/v1/chat/completions"),  # 401 from the hub
        ask(hub.url, "GET", "/v1/nothing-here"),  # 404 from the router
        ask(hub.url, "DELETE", "/v1/chat/completions"),  # 405 from Quart
    ]
    assert [a.status for a in answers] == [200, 401, 404, 405]
    ids = [a.headers.get_all("x-request-id") for a in answers]
    assert all(len(one) == 1 and one[0] for one in ids)  # exactly one, never empty
    assert len({one[0] for one in ids}) == len(ids)


def test_client_request_ids_are_adopted_when_usable(hub):
    auth = {"Authorization": f"Bearer {hub.create_key()}"}
    mine = ask(hub.url, "POST", "/v1/chat/completions", {**auth, "X-Request-Id": "req-abc-1"})
    long_id = "x" * (MAX_REQUEST_ID + 1)
    too_long = ask(hub.url, "POST", "/v1/chat/completions", {**auth, "x-request-id": long_id})
    assert mine.headers["x-request-id"] == "req-abc-1"
    assert too_long.headers["x-request-id"] not in ("", long_id)
    rows = {row["request_id"] for row in hub.wait_for_calls(2)}
    assert rows == {"req-abc-1", too_long.headers["x-request-id"]}  # the log row and the answer agree


def test_header_reading_matches_werkzeug():
    raw = [(b"X-Api-Key", b"one"), (b"x-api-key", b"two"), (b"accept", b"*/*")]
    raw.append((b"x-n", "é".encode("latin-1")))
    assert read_headers(raw) == {"x-api-key": "one", "accept": "*/*", "x-n": "é"}  # first of repeated ones
    assert request_id_from("a\nb") != "a\nb"
    assert request_id_from(None) != request_id_from(None)


def test_new_ids_are_version_7_uuids_in_creation_order():
    ids = [random_id() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    for one in ids:
        parsed = uuid.UUID(hex=one)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert one == parsed.hex
    stamps = [int(one[:12], 16) for one in ids]  # Unix milliseconds
    assert stamps == sorted(stamps)
    assert abs(stamps[-1] - time.time() * 1000) < 60_000


# --- HubHTTPConnection: the handler runs in the server's task ----------------------------------------------


class Exchange:
    """One request as an ASGI server drives it: the body in `parts` (the last one only if `complete`), then
    (optionally) a disconnect when told."""

    def __init__(self, *parts: bytes, complete: bool = True) -> None:
        self.parts = list(parts or [b""])
        self.complete = complete
        self.hang_up = asyncio.Event()
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if len(self.parts) > 1 or (self.parts and self.complete):
            part = self.parts.pop(0)
            return {"type": "http.request", "body": part, "more_body": bool(self.parts)}
        await self.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]


def scope_for(path: str, method: str = "GET") -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"hub"), (b"x-request-id", b"conn-test")], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80), "extensions": {},
    }  # fmt: skip


@pytest.fixture
def slow_app(tmp_path):
    """The hub's app with one extra route that waits until it is released, recording how it ended."""
    app = create_app(make_settings(tmp_path / "data"))
    app.release = asyncio.Event()
    app.ended: list[str] = []

    @app.get("/-/test-slow")
    async def slow() -> str:
        try:
            await app.release.wait()
        except asyncio.CancelledError:
            app.ended.append("cancelled")
            raise
        app.ended.append("finished")
        return "done"

    @app.post("/-/test-body")
    async def body() -> str:
        return str(len(await request.get_data()))

    return app


async def test_a_normal_request_leaves_the_servers_task_usable(slow_app):
    exchange = Exchange()
    slow_app.release.set()
    await slow_app(scope_for("/-/test-slow"), exchange.receive, exchange.send)
    assert slow_app.ended == ["finished"] and exchange.status == 200
    assert (b"x-request-id", b"conn-test") in exchange.sent[0]["headers"]
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0.01)  # no cancellation left behind for what the server does next (Hypercorn's send)


async def test_a_client_that_hangs_up_cancels_the_handler_and_the_request_ends_quietly(slow_app):
    exchange = Exchange()
    asyncio.get_running_loop().call_later(0.05, exchange.hang_up.set)
    await asyncio.wait_for(slow_app(scope_for("/-/test-slow"), exchange.receive, exchange.send), 5)
    assert slow_app.ended == ["cancelled"] and exchange.sent == []
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0.01)


async def test_the_server_cancelling_the_request_still_cancels_it(slow_app):
    exchange = Exchange()
    request = asyncio.ensure_future(slow_app(scope_for("/-/test-slow"), exchange.receive, exchange.send))
    await asyncio.sleep(0.05)
    request.cancel()  # e.g. Hypercorn at shutdown
    with pytest.raises(asyncio.CancelledError):
        await request
    assert slow_app.ended == ["cancelled"]


async def test_a_body_in_several_parts_is_read_whole(slow_app):
    exchange = Exchange(b"a" * 10, b"b" * 20, b"c" * 5)
    await slow_app(scope_for("/-/test-body", "POST"), exchange.receive, exchange.send)
    assert exchange.status == 200 and exchange.sent[1]["body"] == b"35"


async def test_a_body_that_stops_arriving_times_out_with_408(slow_app):
    slow_app.config["BODY_TIMEOUT"] = 0.2
    exchange = Exchange(b"{", complete=False)
    started = time.monotonic()
    await asyncio.wait_for(slow_app(scope_for("/-/test-body", "POST"), exchange.receive, exchange.send), 5)
    assert exchange.status == 408 and time.monotonic() - started < 2
