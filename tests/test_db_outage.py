"""PostgreSQL goes away and comes back while a hub serves (docs/security.md, "When the database is down").

The database is made unavailable for real: it stops accepting connections and every open connection is
terminated, as in a failover or a restart of the server. What a client must see meanwhile: keys the hub
already knows keep working (their cached answer, even past its cache time), everything that needs the
database answers 503 with Retry-After in the endpoint's own error shape (never a 401 that says "your key is
wrong", never a 500), and when the database is back the hub recovers by itself: no restart.

Here one database on the shared server is closed to connections (the server keeps running);
`tests/test_db_cluster.py` stops and restarts a whole server of its own (immediate: a crash with recovery;
fast: a clean restart), and `tests/test_db_hang.py` and that file cover a database that hangs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))
from hubtest_plugins.http import call
from hubtest_plugins.pg import Database

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def database(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    yield db
    db.up()  # whatever the test did, the fixture can drop it


def _eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def _sign_in(url: str, key: str) -> dict[str, str]:
    answer = call("POST", f"{url}/api/auth/session", json_body={"key": key})
    assert answer.status == 200
    return {"Cookie": f"aigne_hub_session={_session_token(answer)}"}


def _session_token(answer) -> str:
    cookie = answer.headers["set-cookie"]
    return cookie.split("aigne_hub_session=", 1)[1].split(";", 1)[0]


def test_an_outage_is_a_503_for_new_lookups_known_keys_keep_working_and_the_hub_recovers(
    hub_server_factory, hub_settings, pg_url, database, fake_openai_thread
):
    server = hub_server_factory(hub_settings.with_(database_url=pg_url, auth_cache_ttl=0.3))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    known, unknown, revoked = (server.create_key(name) for name in ("known", "unknown", "revoked"))
    url = server.url
    revoked_id = next(
        k["id"]
        for k in call("GET", f"{url}/api/admin/keys", key=server.admin_key).body["list"]
        if k["name"] == "revoked"
    )
    assert call("DELETE", f"{url}/api/admin/keys/{revoked_id}", key=server.admin_key).status == 200
    # a configuration change empties the key cache (it may have been a revocation): the keys the hub
    # "knows" are the ones used since
    for key in (known, server.admin_key):
        assert call("POST", f"{url}/v1/chat/completions", key=key, json_body=CHAT).status == 200
    assert call("GET", f"{url}/v1/models", key=revoked).status == 401  # known to be revoked
    cookie = _sign_in(url, server.admin_key)

    database.down()
    time.sleep(0.5)  # longer than the auth cache time: every cached answer is stale now
    try:
        # a key the hub knows keeps working (the upstream and the configuration are in memory)
        for _ in range(3):
            ok = call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT)
            assert ok.status == 200, ok.text
        # a revoked key stays refused, and so does a token that is no key of this hub at all
        assert call("GET", f"{url}/v1/models", key=revoked).status == 401
        assert call("GET", f"{url}/v1/models", key="sk-an-openai-key-by-mistake").status == 401
        # a key it has never seen: 503 with Retry-After, in each dialect's error shape
        openai_style = call("POST", f"{url}/v1/chat/completions", key=unknown, json_body=CHAT)
        assert openai_style.status == 503 and openai_style.headers["retry-after"]
        assert openai_style.error["code"] == "database_unavailable"
        anthropic_style = call(
            "POST", f"{url}/v1/messages", key=unknown, json_body={**CHAT, "max_tokens": 10}
        )
        assert anthropic_style.status == 503 and anthropic_style.body["type"] == "error"
        aigne_style = call("POST", f"{url}/api/v2/chat", key=unknown, json_body={"model": CHAT["model"]})
        assert aigne_style.status == 503 and aigne_style.error["code"] == "database_unavailable"
        # the console's session lives in the database: "try again", not "signed out"
        assert call("GET", f"{url}/api/auth/session", headers=cookie).status == 503
        # admin and usage pages read the database: 503, not a 500
        for path in ("/api/admin/users", "/api/usage/calls", "/api/ai-providers"):
            page = call("GET", f"{url}{path}", key=server.admin_key)
            assert page.status == 503, (path, page.text)
            assert page.body["error"]["code"] == "database_unavailable"
        assert call("GET", f"{url}/-/health").status == 200
    finally:
        database.up()

    # back without a restart: new keys, sessions, admin pages; the calls made meanwhile are in the log
    assert _eventually(lambda: call("GET", f"{url}/v1/models", key=unknown).status == 200)
    assert call("POST", f"{url}/v1/chat/completions", key=unknown, json_body=CHAT).status == 200
    assert call("GET", f"{url}/api/auth/session", headers=cookie).status == 200
    assert call("GET", f"{url}/api/admin/users", key=server.admin_key).status == 200
    rows = server.wait_for_calls(6, timeout=20)
    assert len(rows) == 6 and all(r["status"] == "success" for r in rows)


def test_credits_mode_refuses_with_503_during_an_outage_and_charges_again_after(
    hub_server_factory, hub_settings, pg_url, database, fake_openai_thread
):
    from hub_billing_credits.testing import account, grant

    from hub_core.testing.billing import new_user, set_rate, settled, use_mode

    server = hub_server_factory(hub_settings.with_(database_url=pg_url))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    use_mode(server, "credits")
    set_rate(server, "openai", "gpt-4o-mini", "0.001", "0.002")
    user_id, key = new_user(server, "payer")
    grant(server, user_id, 5)
    assert call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=CHAT).status == 200
    settled(server)
    before = account(server, user_id)

    database.down()
    try:
        # no hold can be taken, so no call goes out unpaid
        refused = call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=CHAT)
        assert refused.status == 503, refused.text
    finally:
        database.up()

    answer = _eventually(
        lambda: (
            (a := call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=CHAT)).status == 200
            and a
        )
    )
    assert answer and answer.status == 200
    settled(server)
    after = account(server, user_id)
    assert after["balance"] < before["balance"] and after["held"] == 0
    assert after["balance"] == after["ledger"] == after["grants"]


def test_a_failure_after_the_usage_rows_are_committed_does_not_log_them_twice(hub, monkeypatch):
    """The connection can drop between the commit of a batch and the key/credential last-use update that
    follows it; the batch must not be written again."""
    import hub_core.usage.writer as usage_log

    async def connection_lost(_batch) -> None:
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(usage_log, "_touch_counters", connection_lost)
    key = hub.create_key("once")
    assert call("POST", f"{hub.url}/v1/chat/completions", key=key, json_body=CHAT).status == 200
    assert len(hub.wait_for_calls(1)) == 1
    time.sleep(0.3)  # several more flush intervals
    assert len(hub.calls()) == 1 and hub.hub.writer.pending == 0


def test_a_batch_whose_commit_answer_was_lost_is_not_logged_twice(
    hub_server_factory, hub_settings, pg_url, fake_openai_thread, monkeypatch
):
    """PostgreSQL can carry out a COMMIT whose answer the hub never sees (a time-out, a dropped connection,
    a frozen server that wakes up: `tests/test_db_cluster.py`); the writer asks the database whether that
    transaction committed (`txid_status`) before it writes the batch again."""
    import contextlib

    import hub_core.usage.writer as usage_log

    real = usage_log.in_transaction
    lost = []

    @contextlib.asynccontextmanager
    async def answer_lost(*args, **kwargs):
        async with real(*args, **kwargs) as conn:
            yield conn
        if not lost:  # committed; the first time, the answer goes missing
            lost.append(True)
            raise TimeoutError()

    server = hub_server_factory(hub_settings.with_(database_url=pg_url))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    key = server.create_key("once")
    monkeypatch.setattr(usage_log, "in_transaction", answer_lost)
    assert call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=CHAT).status == 200
    assert len(server.wait_for_calls(1)) == 1
    time.sleep(0.3)  # several more flush intervals
    assert lost and len(server.calls()) == 1 and server.hub.writer.pending == 0


def test_a_failed_release_of_a_transaction_connection_does_not_break_the_task(
    hub_server_factory, hub_settings, pg_url
):
    """When the database goes away mid-transaction, returning the connection to the pool fails too; Tortoise
    then left the task's connection variable on the dead transaction, and every later query of that task
    (the usage writer's loop, a deferred settlement) failed with "connection has been released back to the
    pool" until the hub restarted (`hub_core.db.postgres.SafeTransactionContext`)."""
    from tortoise.transactions import in_transaction

    from hub_core.db import models as m
    from hub_core.db import tortoise_overrides

    server = hub_server_factory(hub_settings.with_(database_url=pg_url))

    async def release_fails_once() -> bool:
        pool = tortoise_overrides.connection_of(m.HubState)._pool
        real_release = pool.release

        async def release(conn, *args, **kwargs):
            pool.release = real_release
            await real_release(conn, *args, **kwargs)
            raise ConnectionResetError("the database went away")

        pool.release = release
        try:
            async with in_transaction():
                await m.HubState.filter(key="").exists()
        except ConnectionResetError:
            pass
        # the same task goes on using the database
        async with in_transaction():
            return await m.HubState.filter(key="").exists() is False

    assert server.run(release_fails_once)


def test_spilled_records_whose_failed_write_committed_are_not_written_twice(
    hub_server_factory, hub_settings, pg_url
):
    """A hub that stops (or spills its queue) while unsure whether a failed write committed marks those
    records in the spill file; the next start asks PostgreSQL (`txid_status`) and skips them if it did."""
    from tortoise.transactions import in_transaction

    from hub_core.db import models as m
    from hub_core.types import CallRecord

    server = hub_server_factory(hub_settings.with_(database_url=pg_url))
    writer = server.hub.writer

    async def spill_and_import() -> list[str]:
        async with in_transaction() as conn:  # stands for the batch that committed while its answer got lost
            txid = int((await conn.execute_query_dict("SELECT txid_current() AS x"))[0]["x"])
        records = [CallRecord(f"spilled-{n}", "/v1/chat/completions", "chat", "m") for n in range(3)]
        await writer._write(records[:2])  # that batch: in the database already
        writer._queue[:] = records
        writer._unsure = (txid, 2)
        writer._spill()  # as on a stop while the database is away
        assert not writer._queue and writer._unsure is None
        await writer._import_spill()  # as at the next start
        return [r["request_id"] for r in await m.ModelCall.filter(request_id__startswith="spilled-").values()]

    assert sorted(server.run(spill_and_import)) == ["spilled-0", "spilled-1", "spilled-2"]
