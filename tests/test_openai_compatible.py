"""OpenAI-compatible endpoints without code (issue 13 item 7): an admin adds a named endpoint through the
admin API (name, base URL, key, models or discovery) and the official `openai` SDK calls ``name/model`` on
the hub, which calls the repo's fake OpenAI upstream on a real socket, with no restart and no plugin."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import openai
import pytest

from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.provider_tests import openai_client

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.http import Answer, call

FAKE_MODELS = ["dall-e-3", "gpt-4o", "gpt-4o-mini", "gpt-image-1", "text-embedding-3-small"]


class Admin:
    """The admin API of one hub, called with its owner's key."""

    def __init__(self, server) -> None:
        self.url, self.key = server.url, server.admin_key

    def __call__(self, method: str, path: str, body=None) -> Answer:
        return call(method, f"{self.url}{path}", key=self.key, json_body=body)


def assert_error(answer: Answer, status: int, code: str | None = None, says: str | None = None) -> None:
    """The admin API's error shape, never a traceback."""
    assert answer.status == status, answer.text
    assert set(answer.body) == {"error"} and answer.error.keys() >= {"message", "code", "type"}
    assert code is None or answer.error["code"] == code, answer.error
    assert says is None or says in answer.error["message"], answer.error
    assert "Traceback" not in answer.text


@pytest.fixture
def server(hub_server_factory):
    return hub_server_factory()


@pytest.fixture
def admin(server) -> Admin:
    return Admin(server)


@pytest.fixture
def keyless_fake():
    """A local server that takes any key or none (vLLM, LM Studio, llama.cpp usually do)."""
    with FakeOpenAI(api_key=None).in_thread() as fake:
        yield fake


def add(admin: Admin, fake: FakeOpenAI, name: str = "local", **fields):
    body = {"kind": "openai_compatible", "name": name, "baseUrl": fake.base_url, **fields}
    if fake.api_key and "apiKey" not in fields:
        body["apiKey"] = fake.api_key
    return admin("POST", "/api/ai-providers", body)


def test_an_endpoint_added_through_the_api_serves_the_openai_sdk(server, admin, fake_openai_thread):
    added = add(admin, fake_openai_thread, displayName="Local vLLM")
    assert added.status == 201, added.text
    record = added.body
    assert (record["name"], record["kind"], record["displayName"]) == (
        "local",
        "openai_compatible",
        "Local vLLM",
    )
    assert record["discoveredModels"] == FAKE_MODELS  # the upstream's /models, asked with the key
    assert record["plugin"] == "openai_compatible" and record["pluginEnabled"] is True
    (cred,) = record["credentials"]
    assert cred["maskedValue"] != fake_openai_thread.api_key and fake_openai_thread.api_key not in added.text

    client = openai_client(server)
    reply = client.chat.completions.create(
        model="local/gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.choices[0].message.content == "Echo: hello there"
    sent = fake_openai_thread.requests[-1]
    assert sent["body"]["model"] == "gpt-4o-mini"  # the name/ prefix is the hub's, not the upstream's
    assert sent["headers"]["Authorization"] == f"Bearer {fake_openai_thread.api_key}"

    chunks = list(
        client.chat.completions.create(
            model="local/gpt-4o",
            messages=[{"role": "user", "content": "streamed words"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: streamed words"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0

    vectors = client.embeddings.create(model="local/text-embedding-3-small", input=["a", "bb"])
    assert len(vectors.data) == 2

    rows = server.wait_for_calls(3)
    assert [(r["provider"], r["upstream_model"], r["stream"], r["status"]) for r in rows] == [
        ("local", "gpt-4o-mini", False, "success"),
        ("local", "gpt-4o", True, "success"),
        ("local", "text-embedding-3-small", False, "success"),
    ]
    assert rows[0]["credential_id"] == cred["id"] and rows[0]["provider_id"] == record["id"]
    assert (rows[1]["input_tokens"], rows[1]["output_tokens"]) == (
        chunks[-1].usage.prompt_tokens,
        chunks[-1].usage.completion_tokens,
    )

    listed = {m.id for m in client.models.list().data}
    assert {f"local/{m}" for m in FAKE_MODELS} <= listed

    plugins = {p["name"]: p for p in admin("GET", "/-/plugins").body}
    assert plugins["openai_compatible"]["registered"] == {"providers": ["local"]}
    assert plugins["openai_compatible"]["builtin"] is True
    available = {p["name"] for p in admin("GET", "/api/ai-providers/available").body}
    assert "local" not in available  # not an installable plugin


def test_a_keyless_endpoint_with_a_fixed_model_list(server, admin, keyless_fake):
    added = add(admin, keyless_fake, name="lmstudio", models=["qwen2.5-7b", "nomic-embed-text"])
    assert added.status == 201, added.text
    assert added.body["credentials"] == [] and added.body["discoveredModels"] == []
    assert added.body["config"] == {"models": ["qwen2.5-7b", "nomic-embed-text"]}
    check = keyless_fake.requests[-1]  # the save was checked with a chat to the first model
    assert (check["path"], check["body"]["model"]) == ("/v1/chat/completions", "qwen2.5-7b")
    assert "Authorization" not in check["headers"]

    client = openai_client(server)
    models = [m.id for m in client.models.list().data if m.id.startswith("lmstudio/")]
    assert sorted(models) == ["lmstudio/nomic-embed-text", "lmstudio/qwen2.5-7b"]
    reply = client.chat.completions.create(
        model="lmstudio/qwen2.5-7b", messages=[{"role": "user", "content": "no key needed"}]
    )
    assert reply.choices[0].message.content == "Echo: no key needed"
    # a bare model name the record lists routes there too
    bare = client.chat.completions.create(model="qwen2.5-7b", messages=[{"role": "user", "content": "bare"}])
    assert bare.choices[0].message.content == "Echo: bare"
    assert [r["provider"] for r in server.wait_for_calls(2)] == ["lmstudio", "lmstudio"]


def test_disable_enable_edit_and_delete_apply_on_the_next_request(server, admin, fake_openai_thread):
    record = add(admin, fake_openai_thread).body
    client = openai_client(server)
    ask = lambda: client.chat.completions.create(  # noqa: E731
        model="local/gpt-4o-mini", messages=[{"role": "user", "content": "ping"}]
    )
    assert ask().choices[0].message.content == "Echo: ping"

    assert admin("PUT", f"/api/ai-providers/{record['id']}", {"enabled": False}).status == 200
    with pytest.raises(openai.APIStatusError) as refused:
        ask()
    assert refused.value.status_code == 503 and "disabled by the admin" in refused.value.message
    assert not [m for m in client.models.list().data if m.id.startswith("local/")]

    changed = admin("PUT", f"/api/ai-providers/{record['id']}", {"enabled": True, "models": ["gpt-4o-mini"]})
    assert changed.status == 200 and changed.body["config"] == {"models": ["gpt-4o-mini"]}
    assert ask().choices[0].message.content == "Echo: ping"
    assert [m.id for m in client.models.list().data if m.id.startswith("local/")] == ["local/gpt-4o-mini"]

    cleared = admin("PUT", f"/api/ai-providers/{record['id']}", {"baseUrl": ""})
    assert_error(cleared, 400, says="baseUrl is required")

    assert admin("DELETE", f"/api/ai-providers/{record['id']}").status == 200
    with pytest.raises(openai.NotFoundError):
        ask()
    assert not [m for m in client.models.list().data if m.id.startswith("local/")]
    plugins = {p["name"]: p for p in admin("GET", "/-/plugins").body}
    assert plugins["openai_compatible"]["registered"] == {"providers": []}
    # the name is free again
    assert add(admin, fake_openai_thread).status == 201


def test_the_anthropic_sdk_reaches_an_endpoint_through_the_messages_dialect(
    server, admin, fake_openai_thread
):
    """Every client dialect of the hub works with an endpoint, as with a plugin's provider."""
    import anthropic

    assert add(admin, fake_openai_thread).status == 201
    client = anthropic.Anthropic(base_url=server.url, api_key=server.create_key(), max_retries=0)
    message = client.messages.create(
        model="local/gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": "from claude code"}]
    )
    assert message.content[0].text == "Echo: from claude code"
    with client.messages.stream(
        model="local/gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": "streamed"}]
    ) as stream:
        assert "".join(stream.text_stream) == "Echo: streamed"


def test_extra_headers_and_no_stream_options_for_servers_that_want_them(server, admin, keyless_fake):
    config = {"headers": {"X-Tenant": "acme", "OpenAI-Organization": "org-1"}, "streamUsage": False}
    added = add(admin, keyless_fake, name="proxy", models=["m-1"], config=config)
    assert added.status == 201, added.text
    assert added.body["config"] == {**config, "models": ["m-1"]}
    client = openai_client(server)
    chunks = list(
        client.chat.completions.create(
            model="proxy/m-1", messages=[{"role": "user", "content": "s"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: s"
    sent = keyless_fake.requests[-1]
    assert (sent["headers"]["X-Tenant"], sent["headers"]["OpenAI-Organization"]) == ("acme", "org-1")
    assert "stream_options" not in sent["body"]

    record_id = added.body["id"]
    changed = admin("PUT", f"/api/ai-providers/{record_id}", {"config": {"headers": {"X-Tenant": "globex"}}})
    assert changed.status == 200, changed.text
    client.chat.completions.create(model="proxy/m-1", messages=[{"role": "user", "content": "again"}])
    sent = keyless_fake.requests[-1]
    assert sent["headers"]["X-Tenant"] == "globex" and "OpenAI-Organization" not in sent["headers"]
    assert sent["body"]["model"] == "m-1"

    for bad, says in [
        ({"headers": {"Authorization": "Bearer x"}}, "not a header the hub lets you set"),
        ({"headers": {"Bad Name": "x"}}, "not a header the hub lets you set"),
        ({"headers": {"X-A": "line\nbreak"}}, "one line of text"),
        ({"headers": {"X-A": 5}}, "one line of text"),
        ({"headers": ["X-A"]}, "config.headers must be an object"),
        ({"streamUsage": "no"}, "streamUsage must be a boolean"),
        ("x", "config must be an object"),
    ]:
        assert_error(admin("PUT", f"/api/ai-providers/{record_id}", {"config": bad}), 400, says=says)
        assert_error(add(admin, keyless_fake, name="other", config=bad), 400, says=says)


def test_a_refused_key_is_switched_off_and_never_replaced_by_no_key(server, admin, fake_openai_thread):
    """Credential health as for a plugin's provider: the upstream refuses the stored key, the hub switches it
    off with the upstream's words, answers 503 rather than calling the endpoint without a key, and a
    re-check brings it back once the upstream accepts it again."""
    record = add(admin, fake_openai_thread).body
    cred_id = record["credentials"][0]["id"]
    client = openai_client(server)
    ask = lambda: client.chat.completions.create(  # noqa: E731
        model="local/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    real_key, fake_openai_thread.api_key = fake_openai_thread.api_key, "sk-rotated-at-the-vendor"
    with pytest.raises(openai.APIStatusError) as refused:
        ask()
    assert refused.value.status_code == 502 and refused.value.body["code"] == "upstream_auth_failed"
    health = admin("GET", "/api/ai-providers/health").body["providers"]["local"]
    assert health["local-1"]["running"] is False and "Incorrect API key" in health["local-1"]["error"]

    sent = len(fake_openai_thread.requests)
    with pytest.raises(openai.APIStatusError) as unusable:
        ask()
    assert unusable.value.status_code == 503
    assert len(fake_openai_thread.requests) == sent  # no call without the key

    fake_openai_thread.api_key = real_key
    checked = admin("GET", f"/api/ai-providers/{record['id']}/credentials/{cred_id}/check")
    assert checked.status == 200 and checked.body["credential"]["active"] is True
    assert ask().choices[0].message.content == "Echo: hi"


def test_several_endpoints_fail_over_on_a_bare_model(server, admin, fake_openai_thread, keyless_fake):
    assert add(admin, fake_openai_thread, name="first", models=["shared-model"]).status == 201
    assert add(admin, keyless_fake, name="second", models=["shared-model"]).status == 201
    client = openai_client(server)
    before = len(fake_openai_thread.requests)
    fake_openai_thread.fail_next(500, "upstream exploded")  # whichever call reaches "first" fails over
    answers = [
        client.chat.completions.create(model="shared-model", messages=[{"role": "user", "content": text}])
        .choices[0]
        .message.content
        for text in ("one", "two")
    ]
    assert answers == ["Echo: one", "Echo: two"]
    assert len(fake_openai_thread.requests) == before + 1  # the rotation tried "first" once: it failed
    rows = server.wait_for_calls(2)
    assert [(r["provider"], r["status"]) for r in rows] == [("second", "success")] * 2


def test_discovery_before_and_after_saving(server, admin, fake_openai_thread):
    found = admin(
        "POST",
        "/api/ai-providers/discover",
        {"baseUrl": fake_openai_thread.base_url, "apiKey": fake_openai_thread.api_key},
    )
    assert found.status == 200 and found.body["models"] == FAKE_MODELS
    refused = admin(
        "POST",
        "/api/ai-providers/discover",
        {"baseUrl": fake_openai_thread.base_url, "apiKey": "sk-wrong-key-123456"},
    )
    assert_error(refused, 400, "invalid_credentials")
    assert "sk-wrong-key-123456" not in refused.text

    record = add(admin, fake_openai_thread, models=["gpt-4o"]).body
    listed = admin("GET", f"/api/ai-providers/{record['id']}/models")
    assert listed.status == 200, listed.text
    assert listed.body == {"provider": "local", "configured": ["gpt-4o"], "upstream": FAKE_MODELS}


def test_clear_errors_and_nothing_saved(server, admin, fake_openai_thread):
    base = fake_openai_thread.base_url
    key = fake_openai_thread.api_key
    cases = [
        ({"name": "Bad Name", "baseUrl": base}, 400, "invalid_request", "name must be"),
        ({"name": "a/b", "baseUrl": base}, 400, "invalid_request", "name must be"),
        ({"name": "", "baseUrl": base}, 400, "invalid_request", "name must be"),
        ({"name": 7, "baseUrl": base}, 400, "invalid_request", "name must be"),
        ({"name": "openai", "baseUrl": base}, 409, "provider_name_taken", "installed plugin 'openai'"),
        ({"name": "x1"}, 400, "invalid_request", "baseUrl is required"),
        ({"name": "x1", "baseUrl": "ftp://host/v1"}, 400, "invalid_request", "http(s)"),
        ({"name": "x1", "baseUrl": "http://"}, 400, "invalid_request", "with a host"),
        ({"name": "x1", "baseUrl": "http://u:p@host/v1"}, 400, "invalid_request", "user or password"),
        ({"name": "x1", "baseUrl": base + "?a=1"}, 400, "invalid_request", "query"),
        ({"name": "x1", "baseUrl": ["x"]}, 400, "invalid_request", "baseUrl must be"),
        ({"name": "x1", "baseUrl": base, "models": "gpt-4o"}, 400, "invalid_request", "models must be"),
        ({"name": "x1", "baseUrl": base, "models": [""]}, 400, "invalid_request", "model id"),
        ({"name": "x1", "baseUrl": base, "apiKey": 5}, 400, "invalid_request", "apiKey"),
        ({"name": "x1", "baseUrl": base, "verify": "no"}, 400, "invalid_request", "verify"),
        ({"name": "x1", "baseUrl": base, "apiKey": "sk-wrong-123456789"}, 400, "invalid_credentials", None),
        (
            {"name": "x1", "baseUrl": base, "apiKey": "sk-wrong-123456789", "models": ["gpt-4o"]},
            400,
            "invalid_credentials",
            None,
        ),
        ({"name": "x1", "baseUrl": "http://127.0.0.1:9/v1"}, 400, "models_unavailable", "give the models"),
    ]
    for body, status, code, says in cases:
        answer = admin("POST", "/api/ai-providers", {"kind": "openai_compatible", "apiKey": key, **body})
        assert_error(answer, status, code, says)
    assert_error(
        admin("POST", "/api/ai-providers", {"kind": "vendor", "name": "x"}), 400, says="kind must be"
    )
    assert admin("GET", "/api/ai-providers").body == []  # nothing was stored

    assert add(admin, fake_openai_thread).status == 201
    assert_error(add(admin, fake_openai_thread), 409, "conflict", "already exists")
    # a plugin provider cannot be added under the endpoint's name either
    assert_error(admin("POST", "/api/ai-providers", {"name": "local"}), 409)


def test_unverified_save_of_an_unreachable_endpoint_then_a_clear_upstream_error(server, admin):
    added = admin(
        "POST",
        "/api/ai-providers",
        {"kind": "openai_compatible", "name": "later", "baseUrl": "http://127.0.0.1:9/v1", "verify": False},
    )
    assert added.status == 201, added.text
    client = openai_client(server)
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(model="later/m", messages=[{"role": "user", "content": "x"}])
    assert failed.value.status_code == 502
    assert [m for m in client.models.list().data if m.id.startswith("later/")] == []


def test_an_endpoint_added_on_one_hub_serves_on_another_sharing_postgres(
    hub_server_factory, hub_settings, pg_url, fake_openai_thread
):
    """The configuration generation carries a new endpoint to every hub on the database: the second hub
    routes it after its next poll, without a restart, and forgets it once the first hub deletes it."""
    shared = {"database_url": pg_url, "secret_key": "c" * 64, "state_poll_interval": 0.2}
    first = hub_server_factory(hub_settings.with_(**shared))
    second = hub_server_factory(
        hub_settings.with_(data_dir=hub_settings.data_dir.parent / "second", **shared)
    )
    record = add(Admin(first), fake_openai_thread, name="shared-vllm").body
    client = openai_client(second)

    def answer() -> str | None:
        try:
            reply = client.chat.completions.create(
                model="shared-vllm/gpt-4o-mini", messages=[{"role": "user", "content": "across"}]
            )
        except openai.NotFoundError:
            return None
        return reply.choices[0].message.content

    assert eventually(answer) == "Echo: across"
    # the tries before the second hub's poll were logged as 404s: the one that worked is the success
    (row,) = second.wait_for_calls(1, status="success")
    assert (row["provider"], row["provider_id"]) == ("shared-vllm", record["id"])

    assert Admin(first)("DELETE", f"/api/ai-providers/{record['id']}").status == 200
    assert eventually(lambda: answer() is None)


def eventually(probe, seconds: float = 20.0):
    """The first truthy answer of `probe`, asked until `seconds` have passed (other hubs poll)."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)
