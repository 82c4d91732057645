"""A database that hangs instead of refusing (docs/security.md, "When the database is down").

A TCP proxy between the hub and PostgreSQL stops forwarding: connections stay open and nothing comes back, as
in a network partition or a failover that got stuck. Before, every call that touched the database waited for
as long as it hung and `/-/health` said nothing. Now every connect, query and wait for a pooled connection
has a time limit (AIGNE_HUB_DB_TIMEOUT), and the first one that runs out trips a circuit breaker
(`hub_core.db.postgres`): every call gets the documented 503 within that one time limit, counted from its
first wait for the database (before, a call could wait twice over, a billed call four times); keys the hub
knows keep working from memory without each call waiting out the limit; `/-/ready` answers 503.

The proxy models a partition: the server is well and the path to it is not. `tests/test_db_cluster.py`
freezes the server itself (SIGSTOP of a throwaway cluster: the kernel still accepts connections for it) and
stops it; both stay, since the two look different at the socket.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))
from hub_billing_credits.testing import grant
from hubtest_plugins.http import call
from hubtest_plugins.pg import FreezableProxy

from hub_core.testing.billing import new_user, set_rate, use_mode

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
# far above the hub's database time limit in this test (1 s): only a hub that hangs with its database hits it
HANG = 60.0
DB_TIMEOUT = 1.0
# what any answer may take while the database hangs: the time limit once, plus scheduling on a loaded 2-core
# machine (below twice the limit, what a call could take before the breaker)
LIMIT = DB_TIMEOUT + 0.5


@pytest.fixture
def proxy() -> Iterator[FreezableProxy]:
    p = FreezableProxy()
    yield p
    p.close()


def _eventually(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return result


def test_a_hung_database_gives_503_within_the_timeout_and_known_keys_keep_working(
    hub_server_factory, hub_settings, pg_url, proxy, fake_openai_thread
):
    settings = hub_settings.with_(database_url=proxy.url(pg_url), db_timeout=DB_TIMEOUT, auth_cache_ttl=0.3)
    server = hub_server_factory(settings)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    known, unknown = server.create_key("known"), server.create_key("unknown")
    url = server.url
    assert call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT).status == 200
    assert call("GET", f"{url}/-/ready").status == 200
    health = call("GET", f"{url}/-/health").body
    assert health["status"] == "ok" and health["database"] == "ok"

    proxy.freeze()
    time.sleep(0.5)  # past the cache time: the known key's answer is stale and its refresh will hang
    try:
        # many calls at once with a known key: each answered from memory, none waits forever
        def chat(_: int):
            return timed(
                lambda: call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT, timeout=HANG)
            )

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(chat, range(16)))
        assert [a.status for a, _ in answers] == [200] * 16
        assert max(seconds for _, seconds in answers) < LIMIT
        # a key it has not seen: the documented 503, in each dialect's shape
        openai_style, seconds = timed(
            lambda: call("POST", f"{url}/v1/chat/completions", key=unknown, json_body=CHAT, timeout=HANG)
        )
        assert openai_style.status == 503 and openai_style.error["code"] == "database_unavailable"
        assert openai_style.headers["retry-after"] and seconds < LIMIT
        time.sleep(0.5)  # past the hub's short pause after a failed lookup: this one asks the database again
        anthropic, seconds = timed(
            lambda: call(
                "POST", f"{url}/v1/messages", key=unknown, json_body={**CHAT, "max_tokens": 5}, timeout=HANG
            )
        )
        assert anthropic.status == 503 and anthropic.body["type"] == "error" and seconds < LIMIT
        # pages that read the database
        for path in ("/api/admin/users", "/api/usage/calls", "/api/ai-providers"):
            page, seconds = timed(lambda: call("GET", f"{url}{path}", key=server.admin_key, timeout=HANG))  # noqa: B023
            assert page.status == 503, (path, page.text)
            assert page.body["error"]["code"] == "database_unavailable" and seconds < LIMIT
        # liveness stays 200 and says why; readiness is 503
        health, seconds = timed(lambda: call("GET", f"{url}/-/health", timeout=HANG))
        assert health.status == 200 and health.body["database"] == "unavailable" and seconds < LIMIT
        assert health.body["status"] == "degraded"
        ready, seconds = timed(lambda: call("GET", f"{url}/-/ready", timeout=HANG))
        assert ready.status == 503 and seconds < LIMIT
    finally:
        proxy.thaw()

    # back by itself: new keys, admin pages, readiness; the calls made meanwhile are in the log
    assert _eventually(lambda: call("GET", f"{url}/v1/models", key=unknown, timeout=HANG).status == 200)
    assert _eventually(lambda: call("GET", f"{url}/-/ready", timeout=HANG).status == 200)
    assert call("GET", f"{url}/api/admin/users", key=server.admin_key).status == 200
    rows = server.wait_for_calls(17, timeout=30)
    assert len(rows) == 17 and all(r["status"] == "success" for r in rows)


def timed(fn: Any) -> tuple[Any, float]:
    t0 = time.monotonic()
    result = fn()
    return result, time.monotonic() - t0


def test_a_billed_call_an_unseen_key_and_readiness_get_503_within_one_timeout(
    hub_server_factory, hub_settings, pg_url, proxy, fake_openai_thread
):
    """The first calls after the database hangs, all at once, before anything has timed out: a billed call
    whose key answer is stale (it refreshes the key, then takes its hold: two waits for the database, four
    times the limit before the breaker), a key the hub has not seen, and readiness. Each gets its 503 within
    the limit; then the hub comes back by itself."""
    settings = hub_settings.with_(database_url=proxy.url(pg_url), db_timeout=DB_TIMEOUT, auth_cache_ttl=0.3)
    server = hub_server_factory(settings)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    use_mode(server, "credits")
    set_rate(server, "openai", "gpt-4o-mini", "0.001", "0.002")
    user_id, payer = new_user(server, "payer")
    grant(server, user_id, 1000)
    unknown, url = server.create_key("unknown"), server.url
    assert call("POST", f"{url}/v1/chat/completions", key=payer, json_body=CHAT).status == 200

    # past the cache times: the payer's key answer is stale, and readiness, which the hub asks the database
    # at most once a second, must ask it again
    time.sleep(1.1)
    proxy.freeze()
    time.sleep(0.05)  # (the proxy's own loop stops forwarding)
    try:
        probes = {
            "billed": lambda: call(
                "POST", f"{url}/v1/chat/completions", key=payer, json_body=CHAT, timeout=HANG
            ),
            "unseen": lambda: call(
                "POST", f"{url}/v1/chat/completions", key=unknown, json_body=CHAT, timeout=HANG
            ),
            "ready": lambda: call("GET", f"{url}/-/ready", timeout=HANG),
        }
        with ThreadPoolExecutor(len(probes)) as pool:
            futures = {name: pool.submit(timed, probe) for name, probe in probes.items()}
            answers = {name: f.result() for name, f in futures.items()}
        (billed, billed_s), (unseen, unseen_s), (ready, ready_s) = answers.values()
        assert billed.status == 503 and billed.error["code"] == "billing_unavailable", billed.text
        assert unseen.status == 503 and unseen.error["code"] == "database_unavailable", unseen.text
        assert ready.status == 503
        print(f"\nproxy frozen: billed {billed_s:.2f} s, unseen key {unseen_s:.2f} s, ready {ready_s:.2f} s")
        assert max(billed_s, unseen_s, ready_s) < LIMIT, answers
        # and the next billed call, the breaker open: at once
        again, seconds = timed(probes["billed"])
        assert again.status == 503 and again.error["code"] == "billing_unavailable" and seconds < 0.3
    finally:
        proxy.thaw()
    t_back = time.monotonic()
    assert _eventually(
        lambda: call("POST", f"{url}/v1/chat/completions", key=payer, json_body=CHAT).status == 200
    )
    assert time.monotonic() - t_back < 2.0


def test_the_breaker_fails_calls_at_once_after_a_time_out_and_closes_once_the_database_answers(
    hub_server_factory, hub_settings, pg_url, proxy
):
    """`hub_core.db.postgres.TimedPool` at work on one hub's pool: the first query into a hung database
    times out after the limit and trips the breaker; queries and transactions then fail at once with an
    error that means 503; a transaction whose statement times out ends within the limit (no ROLLBACK or
    reset waited for); a query a client abandons on a healthy database trips nothing; the breaker closes by
    itself soon after the database answers again."""
    from tortoise.transactions import in_transaction

    from hub_core.db import models as m
    from hub_core.db import tortoise_overrides
    from hub_core.db.errors import is_unavailable
    from hub_core.db.postgres import DatabaseNotAnswering, TimedPool

    settings = hub_settings.with_(database_url=proxy.url(pg_url), db_timeout=DB_TIMEOUT)
    server = hub_server_factory(settings)

    async def scenario() -> dict[str, float]:
        pool = tortoise_overrides.connection_of(m.HubState)._pool
        assert isinstance(pool, TimedPool) and not pool.hung
        figures: dict[str, float] = {}

        # abandoned (cancelled) on a healthy database: not a time-out
        conn = tortoise_overrides.connection_of(m.HubState)
        task = asyncio.create_task(conn.execute_query("SELECT pg_sleep(0.3)"))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert not pool.hung

        # a statement inside a transaction times out: the transaction ends within the limit
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            async with in_transaction() as conn:
                await conn.execute_query("SELECT 1")
                proxy.freeze()
                await asyncio.sleep(0.05)
                await conn.execute_query("SELECT 2")
        figures["transaction_s"] = time.monotonic() - t0
        assert pool.hung

        # the breaker open: queries and transactions fail at once, as an unavailable database
        t0 = time.monotonic()
        with pytest.raises(DatabaseNotAnswering) as refused:
            await m.HubState.filter(key="").exists()
        with pytest.raises(DatabaseNotAnswering):
            async with in_transaction():
                pass
        figures["refused_s"] = time.monotonic() - t0
        assert is_unavailable(refused.value)

        proxy.thaw()
        t0 = time.monotonic()
        while pool.hung and time.monotonic() - t0 < 5:  # noqa: ASYNC110 (a flag of the code under test)
            await asyncio.sleep(0.01)
        figures["closed_s"] = time.monotonic() - t0
        assert await m.HubState.filter(key="").exists() is False
        async with in_transaction() as conn:
            await conn.execute_query("SELECT 1")
        return figures

    try:
        figures = server.run(scenario)
    finally:
        proxy.thaw()
    print(f"\nbreaker: {figures}")
    assert figures["transaction_s"] < LIMIT
    assert figures["refused_s"] < 0.1
    assert figures["closed_s"] < 1.0
