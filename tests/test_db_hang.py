"""A database that hangs instead of refusing (docs/security.md, "When the database is down").

A TCP proxy between the hub and PostgreSQL stops forwarding: connections stay open and nothing comes back, as
in a network partition or a failover that got stuck. Before, every call that touched the database waited for
as long as it hung and `/-/health` said nothing. Now every connect, query and wait for a pooled connection
has a time limit (AIGNE_HUB_DB_TIMEOUT), after which the call gets the documented 503; keys the hub knows keep
working from memory without each call waiting out the limit; `/-/ready` answers 503.

The proxy models a partition: the server is well and the path to it is not. `tests/test_db_cluster.py`
freezes the server itself (SIGSTOP of a throwaway cluster: the kernel still accepts connections for it) and
stops it; both stay, since the two look different at the socket.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))
from hubtest_plugins.http import call
from hubtest_plugins.pg import FreezableProxy

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
# far above the hub's database time limit in this test (1 s): only a hub that hangs with its database hits it
HANG = 60.0


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
    settings = hub_settings.with_(database_url=proxy.url(pg_url), db_timeout=1.0, auth_cache_ttl=0.3)
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
            return call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT, timeout=HANG)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(chat, range(16)))
        assert [a.status for a in answers] == [200] * 16
        # a key it has not seen: the documented 503, in each dialect's shape
        openai_style = call("POST", f"{url}/v1/chat/completions", key=unknown, json_body=CHAT, timeout=HANG)
        assert openai_style.status == 503 and openai_style.error["code"] == "database_unavailable"
        assert openai_style.headers["retry-after"]
        time.sleep(2.5)  # past the hub's short pause after a failed lookup: this one waits for the database
        anthropic = call(
            "POST", f"{url}/v1/messages", key=unknown, json_body={**CHAT, "max_tokens": 5}, timeout=HANG
        )
        assert anthropic.status == 503 and anthropic.body["type"] == "error"
        # pages that read the database
        for path in ("/api/admin/users", "/api/usage/calls", "/api/ai-providers"):
            page = call("GET", f"{url}{path}", key=server.admin_key, timeout=HANG)
            assert page.status == 503, (path, page.text)
            assert page.body["error"]["code"] == "database_unavailable"
        # liveness stays 200 and says why; readiness is 503
        health = call("GET", f"{url}/-/health", timeout=HANG)
        assert health.status == 200 and health.body["database"] == "unavailable"
        assert health.body["status"] == "degraded"
        assert call("GET", f"{url}/-/ready", timeout=HANG).status == 503
    finally:
        proxy.thaw()

    # back by itself: new keys, admin pages, readiness; the calls made meanwhile are in the log
    assert _eventually(lambda: call("GET", f"{url}/v1/models", key=unknown, timeout=HANG).status == 200)
    assert _eventually(lambda: call("GET", f"{url}/-/ready", timeout=HANG).status == 200)
    assert call("GET", f"{url}/api/admin/users", key=server.admin_key).status == 200
    rows = server.wait_for_calls(17, timeout=30)
    assert len(rows) == 17 and all(r["status"] == "success" for r in rows)
