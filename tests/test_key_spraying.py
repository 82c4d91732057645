"""Key spraying: a client sends random well-formed keys (docs/security.md, "Key spraying").

Before: the key cache was emptied wholesale at 10,000 entries, so 10,050 random keys made a key that had
worked through one database outage fail with 503 in the next, and every random key cost a database lookup
without limit. Now refusals live in their own bounded cache, working keys in a least-recently-used one that
only keys the database confirmed can enter, and a client whose keys keep failing gets 429.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))
from hubtest_plugins.http import call
from hubtest_plugins.pg import Database

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def random_key() -> str:
    return "ahk-" + secrets.token_urlsafe(32)


@pytest.fixture
def database(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    yield db
    db.up()


def test_random_keys_cannot_flush_a_known_key_out_of_the_cache(
    hub_server_factory, hub_settings, pg_url, database, fake_openai_thread
):
    # a small cache so that the attack needs few requests; no throttle, so every random key is looked up
    settings = hub_settings.with_(
        database_url=pg_url, auth_cache_ttl=0.3, auth_cache_size=20, auth_failure_limit="100000/minute"
    )
    server = hub_server_factory(settings)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    known = server.create_key("known")
    url = server.url
    assert call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT).status == 200

    for _ in range(5 * 20):  # five times what the cache holds
        assert call("GET", f"{url}/v1/models", key=random_key()).status == 401
    state = server.hub.state
    assert len(state._refused) <= 20 and len(state._keys) == 1

    database.down()
    time.sleep(0.5)  # past the cache time: the known key's answer is stale and cannot be refreshed
    try:
        ok = call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT)
        assert ok.status == 200, ok.text
        assert call("GET", f"{url}/v1/models", key=random_key()).status == 503
    finally:
        database.up()


def test_a_client_whose_keys_keep_failing_is_throttled_without_database_lookups(
    hub_server_factory, hub_settings, fake_openai_thread
):
    server = hub_server_factory(hub_settings.with_(auth_failure_limit="5/minute"))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    known, never_used = server.create_key("known"), server.create_key("never used")
    url = server.url
    assert call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT).status == 200
    wrong = random_key()

    for _ in range(5):
        refused = call("GET", f"{url}/v1/models", key=random_key())
        assert refused.status == 401 and refused.error["code"] == "invalid_api_key"
    # the limit is reached: the next unknown key is not looked up, in each dialect's shape
    throttled = call("POST", f"{url}/v1/chat/completions", key=wrong, json_body=CHAT)
    assert throttled.status == 429 and throttled.error["code"] == "too_many_failed_keys"
    assert 1 <= int(throttled.headers["retry-after"]) <= 61
    anthropic = call("POST", f"{url}/v1/messages", key=wrong, json_body={**CHAT, "max_tokens": 5})
    assert anthropic.status == 429 and anthropic.body["type"] == "error"
    aigne = call("POST", f"{url}/api/v2/chat", key=wrong, json_body={"model": CHAT["model"]})
    assert aigne.status == 429 and aigne.error["code"] == "too_many_failed_keys"
    sign_in = call("POST", f"{url}/api/auth/session", json_body={"key": wrong})
    assert sign_in.status == 429
    # a key this hub confirmed before keeps working from the same address; a valid key it has not seen
    # waits like any other unknown key (the address cannot tell it from the spray)
    assert call("POST", f"{url}/v1/chat/completions", key=known, json_body=CHAT).status == 200
    assert call("GET", f"{url}/v1/models", key=never_used).status == 429
    # a token that is not a key at all is refused as before, without a lookup
    assert call("GET", f"{url}/v1/models", key="sk-not-ours").status == 401
