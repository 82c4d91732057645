"""Per provider/model availability, as the admin API and the AIGNE model list show it: updated by every call
(success or upstream failure, not the caller's own mistakes) and by credential checks, kept in the database
across restarts."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import openai
import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.http import call

from hub_core.testing.server import HubServer

HELLO = [{"role": "user", "content": "hi"}]


def status(server: HubServer, key: str | None = None, **query: str) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    answer = call("GET", f"{server.url}/api/ai-providers/status?{qs}", key=key or server.admin_key)
    assert answer.status == 200, answer.text
    return answer.body


def by_model(rows: list[dict]) -> dict[str, dict]:
    return {r["model"]: r for r in rows}


def client(server: HubServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)


def public_models(server: HubServer) -> dict[str, dict | None]:
    with urllib.request.urlopen(f"{server.url}/api/ai/models?type=chat", timeout=10) as resp:
        return {m["key"]: m["status"] for m in json.loads(resp.read())}


def test_every_call_updates_the_status_of_its_model(hub, fake_openai_thread):
    sdk = client(hub)
    sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="openai/fail-500", messages=HELLO)
    fake_openai_thread.fail_next(400, "Unsupported parameter: 'foo'")
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="openai/gpt-4o", messages=HELLO)
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="openai/missing-model", messages=HELLO)

    rows = by_model(status(hub))
    ok = rows["gpt-4o-mini"]
    assert (ok["provider"], ok["type"], ok["available"], ok["error"]) == ("openai", "chat", True, None)
    assert ok["responseTime"] > 0 and ok["checkedAt"] and ok["providerId"] == 1
    failed = rows["fail-500"]
    assert failed["available"] is False and failed["error"]["code"] == "upstream_error"
    assert "500" in failed["error"]["message"]
    assert "gpt-4o" not in rows, "a request the vendor refused as invalid says nothing about the model"
    assert "missing-model" not in rows, "made-up names do not fill the table"
    assert [r["model"] for r in status(hub, model="fail-500")] == ["fail-500"]
    member = call("GET", f"{hub.url}/api/ai-providers/status", key=hub.create_key())
    assert member.status == 403


def test_the_aigne_model_list_shows_availability_and_a_success_clears_the_error(hub, fake_openai_thread):
    sdk = client(hub)
    assert public_models(hub)["openai/gpt-4o"] is None, "unknown until a call or a check"
    sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    fake_openai_thread.fail_next(503, "overloaded")
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="openai/gpt-4o", messages=HELLO)

    listed = public_models(hub)
    assert listed["openai/gpt-4o-mini"] == {"available": True}
    assert listed["openai/gpt-4o"] == {"available": False}

    sdk.chat.completions.create(model="openai/gpt-4o", messages=HELLO)
    assert public_models(hub)["openai/gpt-4o"] == {"available": True}
    assert by_model(status(hub))["gpt-4o"]["error"] is None


def test_a_rate_limit_is_recorded_but_does_not_make_the_model_unavailable(hub, fake_openai_thread):
    sdk = client(hub)
    sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    fake_openai_thread.fail_next(429, "Rate limit reached", headers={"Retry-After": "1"})
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    row = by_model(status(hub))["gpt-4o-mini"]
    assert row["available"] is True and row["error"]["code"] == "rate_limited"


def test_credential_checks_update_the_status_of_the_test_model(hub, fake_openai_thread):
    pid = call("GET", f"{hub.url}/api/ai-providers", key=hub.admin_key).body[0]["id"]
    answer = call(
        "POST",
        f"{hub.url}/api/ai-providers/{pid}/credentials/test",
        key=hub.admin_key,
        json_body={"value": str(fake_openai_thread.api_key)},
    )
    assert answer.status == 200
    row = by_model(status(hub))["gpt-4.1-nano"]
    assert row["available"] is True and row["responseTime"] > 0


def test_the_status_survives_a_restart(hub_server_factory, hub_settings, fake_openai_thread):
    first = hub_server_factory(hub_settings)
    first.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    with pytest.raises(openai.InternalServerError):
        client(first).chat.completions.create(model="openai/fail-500", messages=HELLO)
    first.stop()

    second = hub_server_factory(hub_settings)
    admin_key = second.create_key("ops", role="admin")
    assert by_model(status(second, key=admin_key))["fail-500"]["available"] is False


def test_health_lists_credentials_and_a_bare_model_is_available_in_v2_status(hub):
    health = call("GET", f"{hub.url}/api/ai-providers/health", key=hub.admin_key).body
    (cred,) = health["providers"]["openai"].values()
    assert cred["running"] is True and cred["error"] is None and cred["weight"] == 100
    assert health["cooldowns"] == {} and health["rechecking"] == [] and health["timestamp"]
    with urllib.request.urlopen(f"{hub.url}/api/v2/status?model=gpt-4o-mini", timeout=10) as resp:
        assert json.loads(resp.read()) == {"available": True}
