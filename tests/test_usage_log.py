"""The usage log: one row per routed call (success, upstream error, client abort) with who, what, where, the
provider's token numbers and timings; written in batches off the request path and flushed on a clean stop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime
from urllib.parse import quote

import aiohttp
import openai
import pytest

from hub_core.db import models as m
from hub_core.usage.writer import CALL_COLUMNS

HELLO = [{"role": "user", "content": "hello there"}]


def client_for(server, key: str, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{server.url}/v1", api_key=key, max_retries=0, default_headers=headers or None
    )


def key_row(server, name: str) -> m.AccessKey:
    async def go() -> m.AccessKey:
        return await m.AccessKey.get(name=name)

    return server.run(go)


def credentials(server) -> list[dict]:
    async def go() -> list[dict]:
        return await m.Credential.all().order_by("id").values()

    return server.run(go)


def test_success_row_has_every_field(hub, fake_openai_thread):
    fake_openai_thread.cached_tokens = 4
    fake_openai_thread.reasoning_tokens = 2
    token = hub.create_key(name="reporter")
    app = "did:abt:z1AppWith/Slash é"
    client = client_for(
        hub, token, **{"x-aigne-hub-client-did": quote(app, safe=""), "x-request-id": "req-123"}
    )
    reply = client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)

    [row] = hub.wait_for_calls(1)
    key = key_row(hub, "reporter")
    [cred] = credentials(hub)
    assert row["request_id"] == "req-123"
    assert (row["user_id"], row["key_id"]) == (key.user_id, key.id)
    assert row["app_did"] == app  # URI-decoded
    assert (row["endpoint"], row["kind"], row["stream"]) == ("/v1/chat/completions", "chat", False)
    assert (row["model"], row["provider"], row["upstream_model"]) == (
        "openai/gpt-4o-mini",
        "openai",
        "gpt-4o-mini",
    )
    assert row["provider_id"] is not None and row["credential_id"] == cred["id"]
    assert (row["status"], row["http_status"], row["error"]) == ("success", 200, None)
    assert row["input_tokens"] == reply.usage.prompt_tokens
    assert row["output_tokens"] == reply.usage.completion_tokens == 3
    assert (row["cached_tokens"], row["reasoning_tokens"]) == (4, 2)
    assert 0 < row["ttfb_ms"] <= row["duration_ms"] < 5000
    assert row["created_at"] is not None


def test_app_falls_back_to_the_key_name(hub):
    client = client_for(hub, hub.create_key(name="my-script"))
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert hub.wait_for_calls(1)[0]["app_did"] == "key:my-script"


def test_streamed_call_records_provider_usage_and_ttfb(hub, fake_openai_thread):
    fake_openai_thread.cached_tokens = 1
    fake_openai_thread.reasoning_tokens = 5
    client = client_for(hub, hub.create_key())
    chunks = list(
        client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    usage = chunks[-1].usage
    [row] = hub.wait_for_calls(1)
    assert row["stream"] is True and row["status"] == "success"
    assert (row["input_tokens"], row["output_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)
    assert (row["cached_tokens"], row["reasoning_tokens"]) == (1, 5)
    assert row["ttfb_ms"] is not None and row["ttfb_ms"] <= row["duration_ms"]


async def _abort_one_stream(url: str, key: str) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            f"{url}/v1/chat/completions",
            json={
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "a b c d e f g h"}],
                "stream": True,
            },
            headers={"Authorization": f"Bearer {key}", "x-request-id": "req-abort"},
        )
        assert resp.status == 200
        # past the first event (it only names the role, which is not output): hang up after some text
        while b'"content":"' not in (line := await asyncio.wait_for(resp.content.readline(), 5)) or (
            b'"content":""' in line
        ):
            pass
        resp.close()


def test_every_call_leaves_exactly_one_row(hub, fake_openai_thread):
    key = hub.create_key()
    client = client_for(hub, key)

    def tagged(tag: str):
        return {"extra_headers": {"x-request-id": tag}}

    client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, **tagged("req-ok"))
    list(
        client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=HELLO, stream=True, **tagged("req-stream")
        )
    )
    client.embeddings.create(model="openai/text-embedding-3-small", input="hi", **tagged("req-embed"))
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="openai/fail-500", messages=HELLO, **tagged("req-500"))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="openai/fail-429", messages=HELLO, **tagged("req-429"))
    with pytest.raises(openai.APIError):
        list(
            client.chat.completions.create(
                model="openai/stream-error", messages=HELLO, stream=True, **tagged("req-midstream")
            )
        )
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nosuch/model", messages=HELLO, **tagged("req-404"))
    fake_openai_thread.chunk_delay = 0.1
    asyncio.run(_abort_one_stream(hub.url, key))

    rows = hub.wait_for_calls(8)
    by_id = {r["request_id"]: r for r in rows}
    assert len(rows) == len(by_id) == 8
    summary = {rid: (r["status"], r["http_status"], r["kind"]) for rid, r in by_id.items()}
    assert summary == {
        "req-ok": ("success", 200, "chat"),
        "req-stream": ("success", 200, "chat"),
        "req-embed": ("success", 200, "embedding"),
        "req-500": ("error", 502, "chat"),
        "req-429": ("error", 429, "chat"),
        "req-midstream": ("error", 502, "chat"),
        "req-404": ("error", 404, "chat"),
        "req-abort": ("aborted", 499, "chat"),
    }
    assert "temporarily unavailable" in by_id["req-500"]["error"]
    assert "Rate limit" in by_id["req-429"]["error"]
    assert by_id["req-404"]["provider"] is None
    assert by_id["req-embed"]["input_tokens"] == 1
    assert by_id["req-abort"]["output_tokens"] > 0 and by_id["req-abort"]["metadata"]["usage_estimated"]
    assert all(r["duration_ms"] > 0 for r in rows if r["provider"])  # the 404 never left the hub
    # bad requests rejected before routing are not calls
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=[])
    assert len(hub.calls()) == 8


def test_credential_usage_count_increments(hub):
    client = client_for(hub, hub.create_key())
    for _ in range(3):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    hub.wait_for_calls(3)
    [cred] = credentials(hub)
    assert cred["usage_count"] == 3
    assert cred["last_used_at"] is not None


def test_rows_are_flushed_on_clean_shutdown(hub_server_factory, hub_settings, fake_openai_thread):
    # a flush interval far longer than the test: only the shutdown flush can write these rows
    server = hub_server_factory(hub_settings.with_(usage_flush_interval=300.0))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    client = client_for(server, server.create_key())
    for _ in range(3):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    list(client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, stream=True))
    # the hub finishes a streamed call just after the client has read its last bytes: wait for it
    deadline = time.monotonic() + 5
    while server.hub.writer.pending < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.hub.writer.pending == 4  # queued, not yet written
    server.stop()

    db_path = server.settings.database_url.removeprefix("sqlite://")
    with sqlite3.connect(db_path) as conn:
        count, tokens = conn.execute("SELECT count(*), sum(output_tokens) FROM model_calls").fetchone()
        usage_count = conn.execute("SELECT usage_count FROM credentials").fetchone()[0]
    assert (count, tokens, usage_count) == (4, 12, 4)


def test_usage_log_on_postgres(hub_server_factory, hub_settings, pg_url, fake_openai_thread):
    server = hub_server_factory(hub_settings.with_(database_url=pg_url, usage_flush_interval=300.0))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    client = client_for(server, server.create_key(name="pg"), **{"x-aigne-hub-client-did": "did%3Aabt%3Azpg"})
    reply = client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    chunks = list(
        client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hello there"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="openai/fail-500", messages=HELLO)
    fake_openai_thread.chunk_delay = 0.1
    asyncio.run(_abort_one_stream(server.url, server.create_key(name="pg2")))
    server.stop()  # the rows are still queued: the shutdown flush writes them to PostgreSQL

    async def read() -> tuple[list, int]:
        import asyncpg

        conn = await asyncpg.connect(pg_url)
        try:
            rows = await conn.fetch(
                "SELECT status, http_status, stream, app_did, input_tokens, output_tokens, ttfb_ms "
                "FROM model_calls ORDER BY id"
            )
            uses = await conn.fetchval("SELECT usage_count FROM credentials")
        finally:
            await conn.close()
        return rows, uses

    rows, uses = asyncio.run(read())
    assert [(r["status"], r["http_status"], r["stream"]) for r in rows] == [
        ("success", 200, False),
        ("success", 200, True),
        ("error", 502, False),
        ("aborted", 499, True),
    ]
    assert rows[0]["app_did"] == "did:abt:zpg" and rows[3]["app_did"] == "key:pg2"
    assert rows[0]["input_tokens"] == reply.usage.prompt_tokens
    assert rows[1]["output_tokens"] == chunks[-1].usage.completion_tokens
    assert all(r["ttfb_ms"] is not None for r in rows if r["status"] == "success")
    assert uses == 4


def test_the_writer_fills_every_column_of_the_call_log():
    # the writer inserts plain rows with its own column list: a column added to the model must be added there
    assert sorted(CALL_COLUMNS) == sorted(m.ModelCall._meta.db_fields - {"id"})


def test_the_writer_stores_what_tortoise_stores(hub):
    """On SQLite the writer binds the time and the stream flag as text and integer itself; the stored row
    must be exactly what Tortoise writes for the same values, and read back the same through the ORM."""
    from hub_core.types import CallRecord, Usage

    record = CallRecord(
        request_id="req-same", endpoint="/v1/chat/completions", kind="chat", model="openai/m", stream=True
    )
    record.usage = Usage(input_tokens=3, output_tokens=4)

    async def write_both() -> tuple[m.ModelCall, m.ModelCall]:
        await hub.hub.writer._write([record])
        started = datetime.fromtimestamp(record.started_at, UTC)
        await m.ModelCall.create(
            request_id="req-orm", created_at=started, endpoint=record.endpoint, kind="chat",
            model="openai/m", stream=True, status="success", input_tokens=3, output_tokens=4,
        )  # fmt: skip
        return await m.ModelCall.get(request_id="req-same"), await m.ModelCall.get(request_id="req-orm")

    written, orm = hub.run(write_both)
    assert (written.created_at, written.stream) == (orm.created_at, orm.stream)
    assert written.stream is True and written.created_at.timestamp() == pytest.approx(record.started_at)
    with sqlite3.connect(hub.settings.data_dir / "hub.db") as conn:
        raw = dict(conn.execute("SELECT request_id, created_at || '|' || typeof(stream) FROM model_calls"))
    assert raw["req-same"] == raw["req-orm"]  # same text for the time, and an integer flag
