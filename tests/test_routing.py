"""Default routing as a client notices it: which upstream credential each call carries (weighted round-robin,
environment-variable fallback with rotation), the ``provider:model`` form, and clear errors for providers an
admin switched off or never configured."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import openai
import pytest

from hub_core.admin import providers
from hub_core.testing.fake_openai import FakeOpenAI, fake_in_thread

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture
def open_fake() -> Iterator[FakeOpenAI]:
    """A fake upstream that accepts any API key, so the keys the hub sends can be counted."""
    with fake_in_thread(FakeOpenAI(api_key=None)) as fake:
        yield fake


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return monkeypatch


def keys_sent(fake: FakeOpenAI) -> list[str]:
    return [r["headers"].get("Authorization", "").removeprefix("Bearer ") for r in fake.requests]


def client_for(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)


def add_credentials(server, provider: str, *creds: tuple[str, int]) -> list[int]:
    hub = server.hub

    async def go() -> list[int]:
        ids = []
        for value, weight in creds:
            row = await providers.add_credential(
                hub.settings, hub.host, hub.keyring, provider, value, weight=weight
            )
            ids.append(row.id)
        await hub.state.reload()
        return ids

    return server.run(go)


def update(server, changes: dict, credential: int | None = None) -> None:
    hub = server.hub

    async def go() -> None:
        if credential is None:
            await providers.update_provider(hub.settings, "openai", changes)
        else:
            await providers.update_credential(
                hub.settings, hub.host, hub.keyring, "openai", credential, changes
            )
        await hub.state.reload()

    server.run(go)


def test_weighted_round_robin_between_credentials(hub_server_factory, open_fake, no_env):
    server = hub_server_factory()
    server.add_provider("openai", base_url=open_fake.base_url)
    heavy, light = add_credentials(
        server, "openai", ("sk-heavy-credential-0001", 300), ("sk-light-credential-0002", 100)
    )
    client = client_for(server)
    for _ in range(12):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)

    sent = keys_sent(open_fake)
    assert Counter(sent) == {"sk-heavy-credential-0001": 9, "sk-light-credential-0002": 3}
    # smooth weighted round-robin spreads the light key out instead of bunching the heavy one
    assert all("sk-light-credential-0002" in sent[i : i + 4] for i in range(0, 12, 4))
    rows = server.wait_for_calls(12)
    assert Counter(r["credential_id"] for r in rows) == {heavy: 9, light: 3}

    # a deactivated credential gets no more traffic
    update(server, {"active": False}, credential=heavy)
    for _ in range(3):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert keys_sent(open_fake)[-3:] == ["sk-light-credential-0002"] * 3


def test_provider_colon_model_form(hub, fake_openai_thread):
    client = client_for(hub)
    reply = client.chat.completions.create(model="openai:gpt-4o", messages=HELLO)
    assert reply.choices[0].message.content == "Echo: hi"
    assert fake_openai_thread.requests[-1]["body"]["model"] == "gpt-4o"
    # only the first separator splits: the rest is the upstream's own model id, slashes and colons included
    client.chat.completions.create(model="openai/ft:gpt-4o-mini:acme/custom", messages=HELLO)
    assert fake_openai_thread.requests[-1]["body"]["model"] == "ft:gpt-4o-mini:acme/custom"
    rows = hub.wait_for_calls(2)
    assert [(r["model"], r["upstream_model"]) for r in rows] == [
        ("openai:gpt-4o", "gpt-4o"),
        ("openai/ft:gpt-4o-mini:acme/custom", "ft:gpt-4o-mini:acme/custom"),
    ]


def test_env_fallback_without_a_provider_row(hub_server_factory, fake_openai_thread, no_env):
    no_env.setenv("OPENAI_API_KEY", fake_openai_thread.api_key)
    no_env.setenv("OPENAI_BASE_URL", fake_openai_thread.base_url)
    server = hub_server_factory()
    client = client_for(server)
    reply = client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert reply.choices[0].message.content == "Echo: hi"
    assert "openai/gpt-4o-mini" in [m.id for m in client.models.list()]
    row = server.wait_for_calls(1)[0]
    assert (row["provider"], row["provider_id"], row["credential_id"]) == ("openai", None, None)


def test_comma_separated_env_keys_rotate(hub_server_factory, open_fake, no_env):
    no_env.setenv("OPENAI_API_KEY", "sk-env-first-000001, sk-env-second-00002")
    no_env.setenv("OPENAI_BASE_URL", open_fake.base_url)
    server = hub_server_factory()
    client = client_for(server)
    for _ in range(4):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert keys_sent(open_fake) == ["sk-env-first-000001", "sk-env-second-00002"] * 2


def test_stored_credentials_win_over_env_keys(hub_server_factory, open_fake, no_env):
    no_env.setenv("OPENAI_API_KEY", "sk-env-should-not-be-used")
    server = hub_server_factory()
    server.add_provider("openai", base_url=open_fake.base_url, credential="sk-stored-credential-01")
    client_for(server).chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert keys_sent(open_fake) == ["sk-stored-credential-01"]


def test_disabled_provider_row_is_a_clear_503(hub, fake_openai_thread, no_env):
    client = client_for(hub)
    update(hub, {"enabled": False})
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert info.value.status_code == 503
    assert info.value.body["code"] == "provider_disabled"
    assert "disabled by the admin" in info.value.message and "openai" in info.value.message
    assert not fake_openai_thread.requests

    # env keys do not bring a provider back that the admin switched off
    no_env.setenv("OPENAI_API_KEY", fake_openai_thread.api_key)
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert info.value.status_code == 503

    update(hub, {"enabled": True})
    assert client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO).choices
    rows = hub.wait_for_calls(3)
    assert [(r["status"], r["http_status"]) for r in rows] == [
        ("error", 503),
        ("error", 503),
        ("success", 200),
    ]


def test_provider_without_any_credential_is_a_clear_503(hub_server_factory, no_env):
    server = hub_server_factory()
    server.add_provider("openai", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(openai.APIStatusError) as info:
        client_for(server).chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert info.value.status_code == 503
    assert info.value.body["code"] == "no_active_credential"
    assert "aigne-hub credentials add openai" in info.value.message and "OPENAI_API_KEY" in info.value.message
