"""Chat streams through the hub: the SDK's view (usage chunk, clean end), the raw SSE bytes (pass-through
byte for byte, no usage unless asked, ``[DONE]``) and a client that hangs up mid-stream."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import openai
import pytest

LONG_PROMPT = " ".join(f"w{i}" for i in range(60))


def sse_post(url: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, str], bytes]:
    """POST and return status, headers and the raw (de-chunked) body bytes exactly as the client gets them."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(
            "POST",
            parts.path,
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def events(raw: bytes) -> list[bytes]:
    assert raw.endswith(b"\n\n")
    blocks = raw[:-2].split(b"\n\n")
    assert all(b.startswith(b"data: ") for b in blocks), blocks
    return [b[6:] for b in blocks]


@pytest.fixture
def key(hub) -> str:
    return hub.create_key()


@pytest.fixture
def client(hub, key) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{hub.url}/v1", api_key=key, max_retries=0)


def test_stream_with_usage_ends_with_a_usage_chunk(client, hub):
    stream = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)  # the SDK stops at [DONE] on its own
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream me please"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.completion_tokens == 4
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"
    row = hub.wait_for_calls(1)[0]
    assert (row["stream"], row["status"], row["output_tokens"]) == (True, "success", 4)
    assert row["input_tokens"] == last.usage.prompt_tokens
    assert row["metadata"].get("usage_estimated") is None


def test_stream_with_usage_is_byte_for_byte_the_upstream_stream(hub, key, fake_openai_thread):
    status, headers, raw = sse_post(
        f"{hub.url}/v1/chat/completions",
        {
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "same bytes"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        key,
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers.get("x-request-id")
    assert raw == bytes(fake_openai_thread.streams[-1])
    assert raw.endswith(b"data: [DONE]\n\n")


def test_stream_without_usage_has_no_usage_anywhere(hub, key, client, fake_openai_thread):
    status, _, raw = sse_post(
        f"{hub.url}/v1/chat/completions",
        {
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "quiet please"}],
            "stream": True,
        },
        key,
    )
    assert status == 200
    # the hub still asked the upstream for usage (for its own log) ...
    assert fake_openai_thread.requests[-1]["body"]["stream_options"] == {"include_usage": True}
    assert b'"usage"' in bytes(fake_openai_thread.streams[-1])
    # ... but the client, who did not ask, sees neither the usage chunk nor a usage key
    assert b"usage" not in raw
    payloads = events(raw)
    assert payloads[-1] == b"[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all(c["choices"] for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "Echo: quiet please"
    # everything else is what the upstream sent, in order
    upstream = [json.loads(p) for p in events(bytes(fake_openai_thread.streams[-1]))[:-1]]
    upstream = [{k: v for k, v in c.items() if k != "usage"} for c in upstream if c["choices"]]
    assert chunks == upstream

    stream = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "quiet please"}], stream=True
    )
    sdk_chunks = list(stream)
    assert sdk_chunks and all(c.usage is None and c.choices for c in sdk_chunks)
    assert len(hub.wait_for_calls(2)) == 2
    assert all(r["output_tokens"] == 3 for r in hub.calls())  # the hub still logs the upstream's usage


def test_stream_done_terminator_comes_once_at_the_end(hub, key):
    _, _, raw = sse_post(
        f"{hub.url}/v1/chat/completions",
        {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": True},
        key,
    )
    assert raw.count(b"[DONE]") == 1
    assert raw.endswith(b"\n\ndata: [DONE]\n\n")


async def _read_events(resp: aiohttp.ClientResponse, count: int) -> list[bytes]:
    seen: list[bytes] = []
    while len(seen) < count:
        line = await asyncio.wait_for(resp.content.readline(), 5)
        assert line, "stream ended early"
        if line.startswith(b"data: "):
            seen.append(line.strip())
    return seen


async def test_client_disconnect_cancels_upstream_and_is_logged_aborted(hub, key, fake_openai_thread):
    fake_openai_thread.chunk_delay = 0.1  # 60+ words: over six seconds if nobody hangs up
    disconnects_before = fake_openai_thread.disconnects
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            f"{hub.url}/v1/chat/completions",
            json={
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": LONG_PROMPT}],
                "stream": True,
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert resp.status == 200
        got = await _read_events(resp, 3)
        resp.close()  # hang up mid-stream
    assert all(not line.endswith(b"[DONE]") for line in got)

    for _ in range(100):  # the fake runs in its own thread: poll its counter for up to 5 s
        if fake_openai_thread.disconnects > disconnects_before:
            break
        await asyncio.sleep(0.05)
    assert fake_openai_thread.disconnects == disconnects_before + 1, "the upstream request was not cancelled"
    assert time.monotonic() - started < 5  # well before the upstream would have finished on its own

    row = (await asyncio.to_thread(hub.wait_for_calls, 1))[0]
    assert (row["status"], row["http_status"], row["stream"]) == ("aborted", 499, True)
    assert row["error"] == "client disconnected"
    # tokens seen so far: at least what the client read, far fewer than the whole answer (61 words)
    assert 2 <= row["output_tokens"] < 30
    assert row["metadata"]["usage_estimated"] is True
    assert row["ttfb_ms"] is not None and row["duration_ms"] >= row["ttfb_ms"]
    sent = bytes(fake_openai_thread.streams[-1])
    assert b"[DONE]" not in sent


def test_usage_of_a_stream_comes_from_the_provider_not_the_chunk_count(client, hub):
    stream = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "one two three four five"}],
        stream=True,
    )
    chunk_count = sum(1 for _ in stream)
    row = hub.wait_for_calls(1)[0]
    assert row["output_tokens"] == 6  # "Echo:" + five words, as the upstream reported
    assert row["output_tokens"] != chunk_count


def test_stream_cut_short_by_upstream_is_an_error_not_a_short_answer(hub):
    """An upstream that hangs up mid-answer must not look like a complete answer with [DONE]."""
    import json
    import urllib.request

    key = hub.create_key()
    body = {
        "model": "openai/stream-cut",
        "stream": True,
        "messages": [{"role": "user", "content": "a b c d e"}],
    }
    req = urllib.request.Request(
        f"{hub.url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    assert b"[DONE]" not in raw
    assert b'"upstream_truncated"' in raw
    assert b"Echo:" in raw  # what did arrive was delivered first
    row = hub.wait_for_calls(1)[0]
    assert row["status"] == "error"
    assert row["error"] == "Upstream stream ended before the answer was complete"
