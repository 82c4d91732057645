"""The ASGI layer every request passes first (`hub_core.request_scope`): request ids on every answer,
including the ones Quart makes itself, and the ids the hub adopts from clients."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from urllib.parse import urlsplit

from hub_core.request_scope import MAX_REQUEST_ID, read_headers, request_id_from
from hub_core.types import random_id

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
