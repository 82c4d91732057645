"""What the hub writes to its log (JSON format): a request id on every line about a request, and never a
secret, neither the caller's access key nor the provider credential, not even when things go wrong."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import openai
import pytest
import structlog

from hub_core.testing.fake_openai import FakeOpenAI, fake_in_thread

CREDENTIAL = "sk-proj-Very5ecretCredentialValue9876"
HELLO = [{"role": "user", "content": "hi"}]
LONGER = [{"role": "user", "content": "one two three"}]


class Capture(io.StringIO):
    def close(self) -> None:  # the hub may still write while pytest tears things down
        pass


def capture_stderr(monkeypatch: pytest.MonkeyPatch) -> Capture:
    """The hub configures structlog with the stderr it finds when its app is created. Call this in the test
    body: pytest puts its own capture back on sys.stderr between setup and call."""
    out = Capture()
    monkeypatch.setattr(sys, "stderr", out)
    return out


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))  # JSON format: every structlog line parses
    return lines


def test_request_ids_on_call_lines_and_no_secrets(hub_server_factory, hub_settings, monkeypatch):
    log_capture = capture_stderr(monkeypatch)
    with fake_in_thread(FakeOpenAI(api_key=CREDENTIAL)) as fake:
        server = hub_server_factory(hub_settings.with_(log_format="json", log_level="debug"))
        server.add_provider("openai", base_url=fake.base_url, credential=CREDENTIAL)
        key = server.create_key(name="logged")
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)

        ok = client.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=HELLO)
        request_ids = {ok.headers["x-request-id"]: "success"}
        list(
            client.chat.completions.create(
                model="openai/gpt-4o-mini",
                messages=HELLO,
                stream=True,
                extra_headers={"x-request-id": "req-stream-1"},
            )
        )
        request_ids["req-stream-1"] = "success"

        # an upstream that echoes the credential it rejects, in full
        fake.fail_next(401, f"Incorrect API key provided: {CREDENTIAL}. Get a key at example.com")
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(
                model="openai/gpt-4o-mini", messages=HELLO, extra_headers={"x-request-id": "req-echo-1"}
            )
        request_ids["req-echo-1"] = "error"
        assert info.value.status_code == 502
        assert CREDENTIAL not in info.value.response.text
        # the client is told the hub's credential was refused, not what the vendor said about it
        assert "rejected the hub's credential" in info.value.message
        assert "Incorrect API key" not in info.value.response.text and "sk-p" not in info.value.response.text

        for model in ("openai/fail-500", "openai/malformed", "openai/stream-error"):
            with pytest.raises(openai.APIError):
                list(client.chat.completions.create(model=model, messages=LONGER, stream=True))

        # a bad key, and a secret sent in a second auth header (refused as ambiguous)
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{server.url}/v1", api_key=key + "x", max_retries=0).models.list()
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(
                model="openai/gpt-4o-mini", messages=HELLO, extra_headers={"x-api-key": CREDENTIAL}
            )
        rows = server.wait_for_calls(6)
        server.stop()

    text = log_capture.getvalue()
    assert key not in text
    assert key[12:] not in text  # not even the part after the visible prefix
    assert CREDENTIAL not in text and CREDENTIAL[8:-4] not in text
    assert all(CREDENTIAL not in (r["error"] or "") for r in rows)

    lines = json_lines(text)
    calls = [line for line in lines if line.get("event") == "call finished"]
    assert len(calls) == 6
    assert all(line.get("request_id") for line in calls)
    by_id = {line["request_id"]: line for line in calls}
    for rid, status in request_ids.items():
        assert by_id[rid]["status"] == status
    assert by_id["req-stream-1"]["stream"] is True and by_id["req-stream-1"]["provider"] == "openai"
    # the vendor's text is in the log line and the usage row, masked, so an operator can tell which key it was
    assert by_id["req-echo-1"]["level"] == "warning" and "sk-p…9876" in by_id["req-echo-1"]["error"]
    echo_row = next(r for r in rows if r["request_id"] == "req-echo-1")
    assert "Incorrect API key provided: sk-p…9876" in echo_row["error"]
    # every line written while a request was in flight names that request
    in_request = [line for line in lines if "path" in line]
    assert in_request and all(line.get("request_id") for line in in_request)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secrets_masked_in_fields_values_and_tracebacks(fmt, hub_settings, monkeypatch):
    from hub_core.infra.logging import bind, configure_logging, emit, new_context

    out = capture_stderr(monkeypatch)
    configure_logging(hub_settings.with_(log_format=fmt, log_level="info"))
    log = structlog.get_logger("test")
    new_context(request_id="req-1", path="/v1/x")
    bind(provider="openai")
    log.info("plain line", model="openai/gpt-4o-mini", count=3)
    log.info("secret field", api_key="abcdefghijklmnop", authorization="short", token=42)
    emit("warning", {"event": "token in a value", "error": f"upstream said: {CREDENTIAL} bad\nsk-{'x' * 20}"})
    try:
        raise ValueError(f"key Bearer {'B' * 24} refused")
    except ValueError:
        log.exception("failed")
    new_context(request_id="req-2")
    log.info("next request")
    text = out.getvalue()
    if fmt == "json":  # as written, with non-ASCII escaped; decoded to look for the masked forms
        text = "\n".join(json.dumps(line, ensure_ascii=False) for line in json_lines(text))

    assert CREDENTIAL not in text and "x" * 20 not in text and "B" * 24 not in text
    assert "abcdefghijklmnop" not in text and "short" not in text
    assert "sk-proj…9876" in text and "abcd…mnop" in text and "Bearer BBBB…BBBB" in text
    assert "gpt-4o-mini" in text  # nothing else touched
    if fmt == "json":
        lines = {line["event"]: line for line in json_lines(text)}
        assert lines["plain line"]["request_id"] == "req-1" and lines["plain line"]["provider"] == "openai"
        assert lines["secret field"]["token"] == 42 and lines["secret field"]["authorization"] == "***"
        assert lines["next request"]["request_id"] == "req-2" and "provider" not in lines["next request"]
        assert "ValueError" in lines["failed"]["exception"]


def test_log_context_stays_with_its_task(hub_settings, monkeypatch):
    """`bind` in a task started by the request (Quart's handler, a background task) never changes the
    fields of the request's own task, as with structlog's contextvars."""
    import asyncio

    from hub_core.infra.logging import bind, configure_logging, new_context

    out = capture_stderr(monkeypatch)
    configure_logging(hub_settings.with_(log_format="json", log_level="info"))
    log = structlog.get_logger("test")

    async def child() -> None:
        bind(provider="openai")
        log.info("child")

    async def request() -> None:
        new_context(request_id="req-9")
        await asyncio.create_task(child())
        log.info("parent")

    asyncio.run(request())
    lines = {line["event"]: line for line in json_lines(out.getvalue())}
    assert lines["child"]["request_id"] == "req-9" and lines["child"]["provider"] == "openai"
    assert lines["parent"]["request_id"] == "req-9" and "provider" not in lines["parent"]


def test_repeated_warnings_are_rate_limited_and_say_how_many_were_left_out(hub_settings, monkeypatch):
    """A database outage repeats one warning on every request and retry (44 a second of "usage log write
    failed" were measured): a few lines per message per window, then one that counts the rest."""
    from hub_core.infra import logging as hub_logging

    monkeypatch.setattr(hub_logging, "_REPEATS", hub_logging.RepeatLimiter(burst=3, window=0.2))
    out = capture_stderr(monkeypatch)
    hub_logging.configure_logging(hub_settings.with_(log_format="json", log_level="info"))
    log = structlog.get_logger("test")
    for n in range(500):
        log.error("usage log write failed; will retry", rows=n)
        log.info("an info line is never limited", n=n)
    hub_logging.emit("warning", {"event": "a call line is never limited"})
    hub_logging.emit("warning", {"event": "a call line is never limited"})
    hub_logging.emit("warning", {"event": "a call line is never limited"})
    hub_logging.emit("warning", {"event": "a call line is never limited"})
    import time

    time.sleep(0.3)  # the window moves on
    log.error("usage log write failed; will retry", rows=500)
    lines = json_lines(out.getvalue())
    failed = [line for line in lines if line["event"].startswith("usage log write failed")]
    assert [line["rows"] for line in failed] == [0, 1, 2, 500]
    assert failed[-1]["suppressed"] == 497 and "suppressed" not in failed[0]
    assert sum(line["event"] == "an info line is never limited" for line in lines) == 500
    assert sum(line["event"] == "a call line is never limited" for line in lines) == 4


def test_library_lines_and_their_tracebacks_are_json_lines_too(hub_settings, monkeypatch):
    """asyncpg, Tortoise, Hypercorn, aiohttp and asyncio log through the standard library: their lines, and
    the tracebacks in them, come out in the hub's format, masked, and rate limited like the hub's own."""
    import logging

    from hub_core.infra import logging as hub_logging

    monkeypatch.setattr(hub_logging, "_REPEATS", hub_logging.RepeatLimiter(burst=2, window=60))
    out = capture_stderr(monkeypatch)
    hub_logging.configure_logging(hub_settings.with_(log_format="json", log_level="info"))
    pool = logging.getLogger("asyncpg.pool")
    try:
        raise ConnectionRefusedError(f"connect failed with password {CREDENTIAL}")
    except ConnectionRefusedError:
        for _ in range(10):
            pool.warning("Failed to restore the pool connection floor; retrying", exc_info=True)
    logging.getLogger("hypercorn.error").info("Running on http://127.0.0.1:1 (CTRL + C to quit)")
    text = out.getvalue()
    assert all(line.startswith("{") for line in text.splitlines())  # no plain traceback line anywhere
    lines = json_lines(text)
    floor = [line for line in lines if line["event"].startswith("Failed to restore")]
    assert len(floor) == 2 and floor[0]["logger"] == "asyncpg.pool" and floor[0]["level"] == "warning"
    assert "ConnectionRefusedError" in floor[0]["exception"] and "Traceback" in floor[0]["exception"]
    assert CREDENTIAL not in text and "sk-proj…9876" in floor[0]["exception"]
    running = next(line for line in lines if line["event"].startswith("Running on"))
    assert running["logger"] == "hypercorn.error" and running["timestamp"]
