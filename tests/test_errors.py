"""Every failure a client of ``/v1`` can meet, in OpenAI's error shape with the right status, and never a
traceback: bad keys, bad bodies, unknown models, and each way an upstream can fail (before and mid-stream)."""

from __future__ import annotations

import http.client
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

from hub_core.testing.fake_openai import FakeOpenAI

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def post(
    url: str,
    body: bytes | dict[str, Any] | list[Any],
    key: str | None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], dict[str, Any]]:
    parts = urlsplit(url)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        conn.request("POST", parts.path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, assert_openai_error(raw)


def assert_openai_error(raw: bytes) -> dict[str, Any]:
    """The body is OpenAI's error object: message, type, param, code; and nothing leaks from inside."""
    assert b"Traceback" not in raw and b'File "' not in raw, raw
    body = json.loads(raw)
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str) and err["type"]
    return err


@pytest.fixture
def key(hub) -> str:
    return hub.create_key()


@pytest.fixture
def client(hub, key) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{hub.url}/v1", api_key=key, max_retries=0)


def sdk_error(call) -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as info:
        call()
    exc = info.value
    assert_openai_error(exc.response.content)
    return exc


def start_hub(factory, settings, fake: FakeOpenAI, credential: str | None = None):
    server = factory(settings)
    server.add_provider("openai", base_url=fake.base_url, credential=credential or fake.api_key)
    return server


# --- authentication ---------------------------------------------------------------------------------------


def test_missing_key_is_401(hub):
    status, _, err = post(f"{hub.url}/v1/chat/completions", CHAT, None)
    assert status == 401
    assert err["type"] == "authentication_error"
    assert err["code"] == "invalid_api_key"


def test_bad_key_is_401_for_the_sdk(hub, fake_openai_thread):
    client = openai.OpenAI(base_url=f"{hub.url}/v1", api_key="ahk-not-a-real-key-at-all", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(**CHAT)
    assert info.value.status_code == 401
    assert_openai_error(info.value.response.content)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    assert not fake_openai_thread.requests  # refused before anything went upstream


def test_revoked_key_is_401(hub, key, client):
    from hub_core.admin import users
    from hub_core.db import models as m
    from hub_core.infra.access_keys import hash_key

    client.chat.completions.create(**CHAT)  # works, and the key is now cached

    async def revoke() -> None:
        row = await m.AccessKey.get(key_hash=hash_key(key))
        await users.revoke_key(hub.hub.settings, row.id)

    hub.run(revoke)
    exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
    assert exc.status_code == 401
    assert "revoked" in exc.message


def test_expired_key_is_401(hub):
    from hub_core.admin import users

    async def make() -> str:
        user = await users.create_user("soon-expired")
        expires = datetime.now(UTC) + timedelta(seconds=1)
        return (await users.create_key(user, "short", expires_at=expires))[1]

    client = openai.OpenAI(base_url=f"{hub.url}/v1", api_key=hub.run(make), max_retries=0)
    client.chat.completions.create(**CHAT)
    time.sleep(1.1)
    exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
    assert exc.status_code == 401
    assert "expired" in exc.message


# --- unknown models ---------------------------------------------------------------------------------------


def test_unknown_model_or_provider_is_404(client, fake_openai_thread):
    # a bare name no provider serves (bare names that one serves, such as gpt-4o-mini, route: docs/routing.md)
    for model in ("no-such-model", "nosuchvendor/gpt-4o", "nosuchvendor:gpt-4o"):
        exc = sdk_error(
            lambda m=model: client.chat.completions.create(
                model=m, messages=[{"role": "user", "content": "x"}]
            )
        )
        assert isinstance(exc, openai.NotFoundError), model
        assert exc.body["code"] == "model_not_found" and exc.body["param"] == "model"
        assert model in exc.message
    assert not fake_openai_thread.requests


def test_model_unknown_to_the_upstream_is_404(client):
    exc = sdk_error(
        lambda: client.chat.completions.create(
            model="openai/missing-model", messages=[{"role": "user", "content": "x"}]
        )
    )
    assert exc.status_code == 404
    assert "does not exist" in exc.message


# --- invalid requests -------------------------------------------------------------------------------------


# path, body, the field the error names
INVALID_BODIES: list[tuple[str, bytes | dict[str, Any] | list[Any], str | None]] = [
    ("/v1/chat/completions", b"{not json", None),
    ("/v1/chat/completions", b"", None),
    ("/v1/chat/completions", [1, 2], None),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]}, "model"),
    ("/v1/chat/completions", {"model": 42, "messages": [{"role": "user", "content": "x"}]}, "model"),
    ("/v1/chat/completions", {"model": "openai/gpt-4o-mini", "messages": []}, "messages"),
    ("/v1/chat/completions", {"model": "openai/gpt-4o-mini"}, "messages"),
    ("/v1/chat/completions", {**CHAT, "messages": [{"role": "wizard", "content": "x"}]}, "messages[0]"),
    ("/v1/chat/completions", {**CHAT, "messages": [{"role": "user", "content": 5}]}, "messages[0]"),
    ("/v1/chat/completions", {**CHAT, "stream": "yes"}, "stream"),
    ("/v1/chat/completions", {**CHAT, "n": 0}, "n"),
    ("/v1/chat/completions", {**CHAT, "n": "2"}, "n"),
    ("/v1/chat/completions", {**CHAT, "tools": {"type": "function"}}, "tools"),
    ("/v1/embeddings", {"model": "openai/text-embedding-3-small", "input": ""}, "input"),
    (
        "/v1/embeddings",
        {"model": "openai/text-embedding-3-small", "input": "x", "encoding_format": "int8"},
        "encoding_format",
    ),
    ("/v1/images/generations", {"model": "openai/dall-e-3", "prompt": "cat", "n": 0}, "n"),
    ("/v1/images/generations", {"model": "openai/dall-e-3", "prompt": "cat", "n": "2"}, "n"),
    ("/v1/images/generations", {"model": "openai/dall-e-3"}, "prompt"),
]


def test_invalid_bodies_are_400(hub, key, fake_openai_thread):
    for path, body, param in INVALID_BODIES:
        status, _, err = post(f"{hub.url}{path}", body, key)
        assert status == 400, (path, body, err)
        assert err["type"] == "invalid_request_error", (path, body, err)
        assert err["param"] == param, (path, body, err)
    assert not fake_openai_thread.requests  # all rejected by the hub, none by the upstream
    assert not hub.calls()  # and none of them counts as a call


def test_body_too_large_is_413(hub_server_factory, hub_settings, fake_openai_thread):
    server = start_hub(hub_server_factory, hub_settings.with_(max_body_bytes=2048), fake_openai_thread)
    key = server.create_key()
    small = {**CHAT, "messages": [{"role": "user", "content": "x" * 1000}]}
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
    assert client.chat.completions.create(**small).choices
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
    status, _, err = post(f"{server.url}/v1/chat/completions", big, key)
    assert status == 413
    assert err["code"] == "request_too_large"
    exc = sdk_error(lambda: client.chat.completions.create(**big))
    assert exc.status_code == 413


# --- upstream failures ------------------------------------------------------------------------------------


def test_upstream_429_is_passed_on_with_retry_after(client, hub):
    exc = sdk_error(
        lambda: client.chat.completions.create(model="openai/fail-429", messages=CHAT["messages"])
    )
    assert isinstance(exc, openai.RateLimitError)
    assert exc.response.headers["retry-after"] == "7"
    assert "Rate limit reached" in exc.message
    row = hub.wait_for_calls(1)[0]
    assert (row["status"], row["http_status"]) == ("error", 429)


def test_upstream_429_from_fail_next_keeps_its_retry_after(client, fake_openai_thread):
    fake_openai_thread.fail_next(429, "slow down", headers={"Retry-After": "20"})
    exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
    assert exc.status_code == 429 and exc.response.headers["retry-after"] == "20"
    assert client.chat.completions.create(**CHAT).choices  # the next call goes through


def test_upstream_5xx_is_502(client, fake_openai_thread, hub):
    for status in (500, 502, 503):
        fake_openai_thread.fail_next(status, "upstream is on fire")
        exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
        assert exc.status_code == 502, status
        assert exc.body["type"] == "upstream_error"
        assert "upstream is on fire" in exc.message and str(status) in exc.message
    rows = hub.wait_for_calls(3)
    assert [(r["status"], r["http_status"], r["provider"]) for r in rows] == [("error", 502, "openai")] * 3


def test_upstream_timeout_is_504(hub_server_factory, hub_settings, fake_openai_thread):
    server = start_hub(
        hub_server_factory,
        hub_settings.with_(upstream_first_byte_timeout=0.3, upstream_idle_timeout=0.3),
        fake_openai_thread,
    )
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    started = time.monotonic()
    exc = sdk_error(lambda: client.chat.completions.create(model="openai/slow-3", messages=CHAT["messages"]))
    assert exc.status_code == 504
    assert exc.body["code"] == "upstream_timeout"
    assert time.monotonic() - started < 2.5
    row = server.wait_for_calls(1)[0]
    assert (row["status"], row["http_status"]) == ("error", 504)


def test_upstream_timeout_mid_stream_is_an_in_stream_error(
    hub_server_factory, hub_settings, fake_openai_thread
):
    server = start_hub(
        hub_server_factory,
        hub_settings.with_(upstream_first_byte_timeout=0.3, upstream_idle_timeout=0.3),
        fake_openai_thread,
    )
    fake_openai_thread.chunk_delay = 1.0
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    stream = client.chat.completions.create(**CHAT, stream=True)
    with pytest.raises(openai.APIError) as info:
        list(stream)
    assert "did not answer in time" in info.value.message
    row = server.wait_for_calls(1)[0]
    assert (row["status"], row["http_status"]) == ("error", 504)


def test_malformed_upstream_json_is_502(client, hub):
    exc = sdk_error(
        lambda: client.chat.completions.create(model="openai/malformed", messages=CHAT["messages"])
    )
    assert exc.status_code == 502
    assert exc.body["code"] == "upstream_malformed"
    # streamed, a 200 whose body is not SSE must not pass for an empty but successful answer
    with pytest.raises(openai.APIError) as info:
        list(client.chat.completions.create(model="openai/malformed", messages=CHAT["messages"], stream=True))
    assert "without any events" in info.value.message
    rows = hub.wait_for_calls(2)
    assert [(r["status"], r["http_status"]) for r in rows] == [("error", 502), ("error", 502)]


def test_upstream_rejecting_the_hub_credential_is_502(hub_server_factory, hub_settings, fake_openai_thread):
    server = start_hub(
        hub_server_factory, hub_settings, fake_openai_thread, credential="sk-wrong-credential-1234"
    )
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
    # not a 401: the caller's own key is fine, it is the hub's provider credential that is wrong
    assert exc.status_code == 502
    assert exc.body["code"] == "upstream_auth_failed"
    assert "rejected the hub's credential" in exc.message
    assert "sk-wrong-credential-1234" not in exc.response.text
    row = server.wait_for_calls(1)[0]
    assert (row["status"], row["http_status"]) == ("error", 502)
    assert "sk-wrong-credential" not in json.dumps(row, default=str)


def test_upstream_unreachable_is_502(hub_server_factory, hub_settings):
    from hub_core.testing.server import free_port

    server = hub_server_factory(hub_settings)
    server.add_provider("openai", base_url=f"http://127.0.0.1:{free_port()}/v1", credential="sk-nobody-home")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
    assert exc.status_code == 502
    assert exc.body["code"] == "upstream_unreachable"


def test_mid_stream_upstream_error_is_an_in_stream_error_event(client, hub, key):
    stream = client.chat.completions.create(
        model="openai/stream-error",
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
    )
    seen = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            seen.append(chunk)
    assert seen, "the chunks before the failure reach the client"
    assert "mid-stream" in info.value.message

    parts = urlsplit(hub.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(
        "POST",
        f"{parts.path}/v1/chat/completions",
        body=json.dumps(
            {
                "model": "openai/stream-error",
                "messages": [{"role": "user", "content": "a b c"}],
                "stream": True,
            }
        ),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    assert resp.status == 200  # the status line was already sent
    last = raw.rstrip(b"\n").rsplit(b"\n\n", 1)[-1]
    assert last.startswith(b"data: {")
    err = assert_openai_error(last[6:])
    assert err["type"] == "upstream_error"
    assert b"[DONE]" not in raw
    rows = hub.wait_for_calls(2)
    assert [(r["status"], r["http_status"]) for r in rows] == [("error", 502), ("error", 502)]
    assert all("mid-stream" in r["error"] for r in rows)


def test_upstream_lowercase_retry_after_is_passed_on(client, fake_openai_thread):
    # HTTP header names are case-insensitive; proxies in front of vendors often send them in lower case
    fake_openai_thread.fail_next(429, "slow down", headers={"retry-after": "12"})
    exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
    assert exc.status_code == 429 and exc.response.headers.get("retry-after") == "12"


def test_other_upstream_4xx_is_a_400_with_the_upstream_message(client, fake_openai_thread):
    fake_openai_thread.fail_next(400, "This model's maximum context length is 128000 tokens.")
    exc = sdk_error(lambda: client.chat.completions.create(**CHAT))
    assert exc.status_code == 400
    assert "maximum context length" in exc.message
