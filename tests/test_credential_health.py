"""Credential health as an operator notices it: a key the vendor starts refusing is switched off (with the
vendor's message in the admin API) and comes back on its own once the vendor accepts it again; keys are
checked with a live call before they are saved (admin API and CLI), can be tested without saving, and
re-checked on demand.

The fake upstream accepts exactly one API key (``FakeOpenAI.api_key``); changing it plays a key that was
revoked (and restored) at the vendor. Re-checks run every 0.3 s here (``credential_check_max_delay``).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import entry_point, installed
from hubtest_plugins.cli import assert_clean_failure, ok, run_cli
from hubtest_plugins.http import Answer, call

from hub_core.errors import HubError
from hub_core.routing.health import Outcome, classify
from hub_core.testing.fake_openai import FakeOpenAI, fake_in_thread
from hub_core.testing.pytest_plugin import make_settings
from hub_core.testing.server import HubServer

HELLO = [{"role": "user", "content": "hi"}]
GOOD = "sk-the-good-key-000111"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_in_thread(FakeOpenAI(api_key=GOOD)) as upstream:
        yield upstream


@pytest.fixture
def start(hub_server_factory, tmp_path, monkeypatch) -> Callable[..., HubServer]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def start(*plugins: str) -> HubServer:
        settings = make_settings(tmp_path / "hub", credential_check_delay=0.0, credential_check_max_delay=0.3)
        eps = [installed("openai"), *(entry_point(p, p) for p in plugins)]
        return hub_server_factory(settings, entry_points=eps)

    return start


def admin(server: HubServer, method: str, path: str, body: object = None, key: str | None = None) -> Answer:
    return call(method, f"{server.url}{path}", key=key or server.admin_key, json_body=body)


def credential(server: HubServer, provider: str = "openai", key: str | None = None) -> dict:
    rows = admin(server, "GET", f"/api/ai-providers?name={provider}", key=key).body
    return rows[0]["credentials"][0]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_credential_that_starts_returning_401_is_disabled_and_comes_back_on_its_own(start, fake):
    server = start()
    server.add_provider("openai", base_url=fake.base_url, credential=GOOD)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    assert client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO).choices

    fake.api_key = "sk-rotated-at-the-vendor"  # the vendor no longer accepts the stored key
    with pytest.raises(openai.InternalServerError, match="rejected the hub's credential"):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    cred = credential(server)
    assert cred["active"] is False and "Incorrect API key provided" in cred["error"]
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert info.value.status_code == 503 and "no active credential" in info.value.message
    health = admin(server, "GET", "/api/ai-providers/health").body
    assert health["providers"]["openai"][cred["name"]]["running"] is False
    assert health["rechecking"] == [cred["id"]]
    rechecks = len(fake.requests)
    time.sleep(1)
    assert len(fake.requests) > rechecks, "the background check keeps trying"
    assert credential(server)["active"] is False

    fake.api_key = GOOD  # the vendor accepts the key again
    wait_until(lambda: credential(server)["active"])
    assert credential(server)["error"] is None
    assert client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO).choices
    assert admin(server, "GET", "/api/ai-providers/health").body["rechecking"] == []


def test_re_checks_resume_when_a_hub_starts(start, fake):
    first = start()
    first.add_provider("openai", base_url=fake.base_url, credential=GOOD)
    fake.api_key = "sk-rotated-at-the-vendor"
    answer = call(
        "POST",
        f"{first.url}/v1/chat/completions",
        key=first.create_key(),
        json_body={"model": "openai/gpt-4o-mini", "messages": HELLO},
    )
    assert answer.status == 502
    wait_until(lambda: credential(first)["active"] is False)
    first.stop()

    fake.api_key = GOOD  # fixed at the vendor while no hub was running
    second = start()
    ops = second.create_key("ops", role="admin")  # the first start's admin key was shown only once
    wait_until(lambda: credential(second, key=ops)["active"])


def test_a_refused_credential_fails_over_and_only_that_credential_is_disabled(start, fake):
    with fake_in_thread(FakeOpenAI(api_key="sk-backup-key-0002")) as other:
        server = start("backup")
        server.add_provider("openai", base_url=fake.base_url, credential=GOOD)
        server.add_provider(
            "backup",
            base_url=other.base_url,
            credential="sk-backup-key-0002",
            config={"models": ["gpt-4o-mini"]},
        )
        other.api_key = "sk-revoked"  # backup is asked first by a fresh hub's rotation
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)

        for _ in range(3):
            assert client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices

        assert credential(server, "backup")["active"] is False
        assert credential(server, "openai")["active"] is True
        assert len([r for r in other.requests if r["path"].endswith("/chat/completions")]) == 1
        row = server.wait_for_calls(1)[0]
        assert (
            row["provider"] == "openai" and row["metadata"]["failover"][0]["code"] == "upstream_auth_failed"
        )


def test_credentials_are_checked_live_before_they_are_saved(start, fake):
    server = start()
    pid = admin(server, "POST", "/api/ai-providers", {"name": "openai", "baseUrl": fake.base_url}).body["id"]
    path = f"/api/ai-providers/{pid}/credentials"

    refused = admin(server, "POST", path, {"value": "sk-wrong-key-99999"})
    assert refused.status == 400
    assert (
        refused.error["message"] == "Invalid credentials" and refused.error["code"] == "invalid_credentials"
    )
    assert "Incorrect API key provided" in refused.error["detail"]
    assert "sk-wrong-key-99999" not in refused.text
    assert fake.requests[-1]["body"]["model"] == "gpt-4.1-nano", "the plugin's cheap test model"
    assert admin(server, "GET", "/api/ai-providers").body[0]["credentials"] == []

    saved = admin(server, "POST", path, {"value": GOOD, "name": "main"})
    assert saved.status == 201 and saved.body["active"] is True
    unchecked = admin(server, "POST", path, {"value": "sk-offline-key-000", "verify": False})
    assert unchecked.status == 201, "verify=false saves without asking the vendor"
    other_model = admin(server, "POST", path, {"value": GOOD, "testModel": "missing-model"})
    assert other_model.status == 400 and other_model.error["code"] == "credential_unverified"
    assert "does not exist" in other_model.error["detail"] and "--no-verify" in other_model.error["detail"]

    # a new value through PUT is checked the same way
    cred_id = saved.body["id"]
    replaced = admin(server, "PUT", f"{path}/{cred_id}", {"value": "sk-wrong-key-99999"})
    assert replaced.status == 400 and replaced.error["message"] == "Invalid credentials"
    assert admin(server, "PUT", f"{path}/{cred_id}", {"name": "renamed"}).status == 200


def test_an_unreachable_upstream_is_not_proof_of_a_good_key(start):
    server = start()
    pid = admin(server, "POST", "/api/ai-providers", {"name": "openai", "baseUrl": "http://127.0.0.1:9/v1"})
    answer = admin(server, "POST", f"/api/ai-providers/{pid.body['id']}/credentials", {"value": GOOD})
    assert answer.status == 400 and answer.error["message"] == "Could not verify the credentials"
    assert "Cannot reach OpenAI" in answer.error["detail"]


def test_a_credential_can_be_tested_without_saving_and_tests_are_rate_limited(start, fake):
    server = start()
    pid = admin(server, "POST", "/api/ai-providers", {"name": "openai", "baseUrl": fake.base_url}).body["id"]
    path = f"/api/ai-providers/{pid}/credentials/test"

    good = admin(server, "POST", path, {"value": GOOD})
    assert good.status == 200 and good.body["success"] is True
    bad = admin(server, "POST", path, {"value": "sk-wrong-key-99999"})
    assert bad.status == 400 and bad.error["message"] == "Invalid credentials"
    assert "Incorrect API key provided" in bad.error["detail"]
    assert admin(server, "GET", "/api/ai-providers").body[0]["credentials"] == [], "nothing was saved"

    for _ in range(3):
        admin(server, "POST", path, {"value": GOOD})
    sent = len(fake.requests)
    limited = admin(server, "POST", path, {"value": GOOD})
    assert limited.status == 429 and "Rate limit exceeded" in limited.error["message"]
    assert int(limited.headers["retry-after"]) > 0
    assert len(fake.requests) == sent, "over the limit, the vendor is not called"


def test_check_re_validates_a_stored_credential(start, fake):
    server = start()
    pid = server.add_provider("openai", base_url=fake.base_url, credential=GOOD)
    cred = credential(server)
    check = f"/api/ai-providers/{pid}/credentials/{cred['id']}/check"

    fake.api_key = "sk-rotated-at-the-vendor"
    refused = admin(server, "GET", check)
    assert refused.status == 400 and refused.error["message"] == "Invalid credentials"
    assert credential(server)["active"] is False and "Incorrect API key" in credential(server)["error"]

    fake.api_key = GOOD
    passed = admin(server, "GET", check)
    assert passed.status == 200 and passed.body["success"] is True
    assert passed.body["credential"]["active"] is True and credential(server)["error"] is None
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO}
    answer = call("POST", f"{server.url}/v1/chat/completions", key=server.create_key(), json_body=body)
    assert answer.status == 200


def test_the_cli_checks_a_credential_before_saving_it(tmp_path, fake):
    data = tmp_path / "data"
    ok(run_cli("providers", "add", "openai", "--base-url", fake.base_url, data_dir=data))
    assert_clean_failure(
        run_cli("credentials", "add", "openai", "--value", "sk-wrong-key-99999", data_dir=data),
        "Invalid credentials: OpenAI rejected the hub's credential: Incorrect API key provided",
    )
    ok(run_cli("credentials", "add", "openai", "--value", GOOD, data_dir=data))
    ok(run_cli("credentials", "add", "openai", "--value", "sk-offline-key-000", "--no-verify", data_dir=data))
    listed = ok(run_cli("providers", "list", data_dir=data)).stdout
    assert listed.count("active") == 2 and "sk-wrong" not in listed


# --- what an upstream error says about the key (no sockets) -----------------------------------------------


def upstream(status: int, message: str = "nope", code: str | None = None) -> HubError:
    from hub_core.providers.base import Provider

    class Vendor(Provider):
        name = "vendor"

    err = Vendor().map_error(status, json.dumps({"error": {"message": message}}).encode(), {})
    if code:
        err.code = code
    err.extra["upstream_status"] = status
    return err


def test_classify_separates_the_key_the_provider_and_the_callers_request():
    assert classify(upstream(401, "Incorrect API key provided")) is Outcome.CREDENTIAL
    assert classify(upstream(403, "Your key lacks permission")) is Outcome.CREDENTIAL
    assert classify(upstream(400, "API key not valid", code="upstream_auth_failed")) is Outcome.CREDENTIAL
    assert classify(upstream(403, "Request blocked by our content policy")) is None
    assert classify(upstream(403, "Country, region, or territory not supported")) is Outcome.UNAVAILABLE
    assert classify(upstream(429, "slow down")) is Outcome.RATE_LIMITED
    assert classify(upstream(404, "no such model")) is Outcome.MODEL_NOT_FOUND
    assert classify(upstream(500)) is Outcome.UNAVAILABLE and classify(upstream(529)) is Outcome.UNAVAILABLE
    assert classify(upstream(400, "temperature must be <= 2")) is None
    timeout = HubError(504, "upstream_timeout", "OpenAI did not answer in time", type="upstream_error")
    assert classify(timeout) is Outcome.UNAVAILABLE
    assert classify(HubError(402, "insufficient_credits", "buy credits", type="NOT_ENOUGH")) is None
    assert classify(HubError(400, "unsupported_model", "no rate")) is None


def test_re_checks_back_off_exponentially_up_to_the_cap(tmp_path):
    from hub_core.infra.crypto import Keyring
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.infra.upstream import UpstreamClient
    from hub_core.routing.health import ProviderHealth
    from hub_core.runtime.state import RuntimeState

    settings = make_settings(tmp_path, credential_check_max_delay=60.0)
    state = RuntimeState(settings, Keyring.load("k", tmp_path / "key"))
    health = ProviderHealth(settings, PluginHost(), state, UpstreamClient(settings))
    assert [health.recheck_delay(n) for n in range(7)] == [6, 7, 9, 13, 21, 37, 60]
