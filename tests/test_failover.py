"""Bare model names and failover, as a client notices them: a bare ``gpt-4o-mini`` is served by whichever
configured provider serves it, a failing provider is skipped for the next one (before any byte reached the
client), a 429 cools a provider down until it may be asked again, and the caller's own errors are never
retried elsewhere.

Two OpenAI-dialect providers on two fake upstreams: ``openai`` (serves ``gpt-4o-mini`` by the name patterns
and its known models) and the test plugin ``backup`` (serves what its record lists in ``config.models``).
A fresh hub's rotation starts with the first provider by (rank, name), which is ``backup``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hub_billing_credits.testing import account, grant
from hubtest_plugins import entry_point, installed
from hubtest_plugins.http import call

from hub_core import Provider
from hub_core.routing.candidates import BareModelRouter, served_id
from hub_core.testing.billing import new_user, set_rate, use_mode
from hub_core.testing.fake_openai import FakeOpenAI, fake_in_thread
from hub_core.testing.pytest_plugin import make_settings
from hub_core.testing.server import HubServer

HELLO = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeOpenAI, FakeOpenAI]]:
    """(primary upstream for ``openai``, upstream for ``backup``)."""
    with (
        fake_in_thread(FakeOpenAI(api_key="sk-openai-fake-0001")) as a,
        fake_in_thread(FakeOpenAI(api_key="sk-backup-fake-0002")) as b,
    ):
        yield a, b


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPEN_ROUTER_API_KEY", "POE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def start(hub_server_factory, tmp_path, fakes, no_env) -> Callable[..., HubServer]:
    a, b = fakes

    def start(
        backup_models: tuple[str, ...] = ("gpt-4o-mini",),
        openai_models: tuple[str, ...] | None = None,
        plugins: tuple[str, ...] = (),
        **settings: object,
    ) -> HubServer:
        eps = [installed("openai"), entry_point("backup", "backup"), *(installed(p) for p in plugins)]
        server = hub_server_factory(make_settings(tmp_path / "hub", **settings), entry_points=eps)
        config = {"models": list(openai_models)} if openai_models else None
        server.add_provider("openai", base_url=a.base_url, credential=a.api_key, config=config)
        server.add_provider(
            "backup", base_url=b.base_url, credential=b.api_key, config={"models": list(backup_models)}
        )
        return server

    return start


def sdk(server: HubServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)


def chats(fake: FakeOpenAI) -> list[dict]:
    return [r for r in fake.requests if r["path"].endswith("/chat/completions")]


def test_a_bare_model_fails_over_to_the_second_provider_when_the_first_returns_500s(start, fakes):
    a, b = fakes
    server = start()
    client = sdk(server)
    b.fail_next(500, "backup is down", times=100)

    replies = [client.chat.completions.create(model="gpt-4o-mini", messages=HELLO) for _ in range(6)]

    assert [r.choices[0].message.content for r in replies] == ["Echo: hello there"] * 6
    # rotation alternates backup, openai, ...: each backup turn failed over to openai, until the third
    # failure in a row cooled backup down
    assert len(chats(b)) == 3 and len(chats(a)) == 6
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert len(chats(b)) == 3, "a provider cooling down is skipped while another serves the model"
    assert {r["body"]["model"] for r in chats(a) + chats(b)} == {"gpt-4o-mini"}

    rows = server.wait_for_calls(8)
    assert {(r["model"], r["provider"], r["status"]) for r in rows} == {("gpt-4o-mini", "openai", "success")}
    failed_over = [r["metadata"]["failover"] for r in rows if "failover" in r["metadata"]]
    assert (
        failed_over
        == [[{"provider": "backup", "model": "gpt-4o-mini", "status": 502, "code": "upstream_error"}]] * 3
    )
    health = call("GET", f"{server.url}/api/ai-providers/health", key=server.admin_key).body
    assert 0 < health["cooldowns"]["backup"] <= 180 and "openai" not in health["cooldowns"]


def test_a_stream_fails_over_before_its_first_byte(start, fakes):
    a, b = fakes
    server = start()
    b.fail_next(500, "backup is down")

    stream = sdk(server).chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert text == "Echo: hello there"
    assert len(chats(b)) == 1 and len(chats(a)) == 1
    row = server.wait_for_calls(1)[0]
    assert (row["provider"], row["status"], row["stream"]) == ("openai", "success", True)
    assert row["metadata"]["failover"][0]["provider"] == "backup"


def test_no_failover_once_stream_bytes_were_sent(start, fakes):
    a, b = fakes
    server = start(backup_models=("stream-error",), openai_models=("stream-error",))

    stream = sdk(server).chat.completions.create(model="stream-error", messages=HELLO, stream=True)
    received = []
    with pytest.raises(openai.APIError, match="mid-stream"):
        for chunk in stream:
            received.extend(c.delta.content or "" for c in chunk.choices)

    assert "".join(received) == "Echo: hello", "the client got the first words, then the error"
    assert len(chats(b)) == 1 and chats(a) == [], "what was sent cannot be taken back: no second provider"
    row = server.wait_for_calls(1)[0]
    assert (row["provider"], row["status"]) == ("backup", "error")


def test_no_failover_on_an_error_caused_by_the_request(start, fakes):
    a, b = fakes
    server = start()
    client = sdk(server)
    b.fail_next(400, "Invalid value for 'temperature'")

    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert len(chats(b)) == 1 and chats(a) == []

    # and the provider is not blamed for it: the rotation still uses it
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert len(chats(a)) == 1 and len(chats(b)) == 2
    health = call("GET", f"{server.url}/api/ai-providers/health", key=server.admin_key).body
    assert health["cooldowns"] == {}


def test_a_provider_prefixed_model_never_goes_to_another_provider(start, fakes):
    a, b = fakes
    server = start()
    b.fail_next(500, "backup is down")

    with pytest.raises(openai.InternalServerError) as info:
        sdk(server).chat.completions.create(model="backup/gpt-4o-mini", messages=HELLO)
    assert info.value.status_code == 502 and "backup is down" in info.value.message
    assert len(chats(b)) == 1 and chats(a) == []


def test_when_every_provider_fails_the_client_gets_the_last_failure(start, fakes):
    a, b = fakes
    server = start()
    b.fail_next(503, "backup overloaded")
    a.fail_next(500, "openai broke")

    with pytest.raises(openai.InternalServerError) as info:
        sdk(server).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert info.value.status_code == 502 and "openai broke" in info.value.message
    assert len(chats(b)) == 1 and len(chats(a)) == 1
    row = server.wait_for_calls(1)[0]
    assert (row["provider"], row["status"], row["http_status"]) == ("openai", "error", 502)


def test_a_429_cools_the_provider_down_until_retry_after_passed(start, fakes):
    a, b = fakes
    server = start()
    client = sdk(server)
    b.fail_next(429, "Rate limit reached", headers={"Retry-After": "1"})

    for _ in range(4):
        assert client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices
    assert len(chats(b)) == 1, "after its 429 the rotation skips backup"
    assert len(chats(a)) == 4
    health = call("GET", f"{server.url}/api/ai-providers/health", key=server.admin_key).body
    assert 0 < health["cooldowns"]["backup"] <= 1
    assert [c["weight"] for c in health["providers"]["backup"].values()] == [10], (
        "the credential is down-weighted"
    )

    time.sleep(1.1)
    for _ in range(4):
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert len(chats(b)) == 3, "once the cool-down expired, backup is back in the rotation"
    health = call("GET", f"{server.url}/api/ai-providers/health", key=server.admin_key).body
    assert health["cooldowns"] == {}


def test_a_bare_model_only_goes_to_providers_that_serve_it(start, fakes):
    a, b = fakes
    server = start(backup_models=("backup-only-model",))
    client = sdk(server)
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    client.chat.completions.create(model="backup-only-model", messages=HELLO)
    assert len(chats(a)) == 3 and [r["body"]["model"] for r in chats(b)] == ["backup-only-model"]
    with pytest.raises(openai.NotFoundError, match="Model no-such-model not found"):
        client.chat.completions.create(model="no-such-model", messages=HELLO)


def test_insufficient_credits_are_the_callers_problem_and_a_failed_attempt_is_not_charged(start, fakes):
    a, b = fakes
    server = start(plugins=("billing_credits",))
    use_mode(server, "credits")
    for provider in ("openai", "backup"):
        set_rate(server, provider, "gpt-4o-mini", "0.001", "0.002")
    user_id, key = new_user(server, "buyer")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)

    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=10)
    assert info.value.status_code == 402
    assert chats(a) == [] and chats(b) == [], "no provider is asked for a call the caller cannot pay"

    grant(server, user_id, 10)
    a.fail_next(500, "openai is down")  # the rotation's second turn starts with openai
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=10)
    assert len(chats(a)) == 1 and len(chats(b)) == 1
    acct = account(server, user_id)
    assert acct["held"] == 0 and acct["holds"] == 0, "the failed attempt's hold was released"
    row = server.wait_for_calls(2)[-1]
    assert row["provider"] == "backup" and row["credits"] > 0
    assert row["metadata"]["failover"][0]["provider"] == "openai"


def test_openrouter_gets_the_vendor_qualified_id(hub_server_factory, tmp_path, fakes, no_env):
    pytest.importorskip("hub_provider_openrouter")
    a, b = fakes
    eps = [installed("openai"), installed("openrouter")]
    server = hub_server_factory(make_settings(tmp_path / "hub"), entry_points=eps)
    server.add_provider("openai", base_url=a.base_url, credential=a.api_key)
    server.add_provider("openrouter", base_url=b.base_url, credential=b.api_key)
    a.fail_next(500, "openai is down")

    reply = sdk(server).chat.completions.create(model="gpt-4o-mini", messages=HELLO)

    assert reply.choices[0].message.content == "Echo: hello there"
    assert [r["body"]["model"] for r in chats(b)] == ["openai/gpt-4o-mini"]
    row = server.wait_for_calls(1)[0]
    assert (row["provider"], row["upstream_model"]) == ("openrouter", "openai/gpt-4o-mini")


def test_a_routing_plugin_that_ignores_exclude_gets_one_attempt(hub_server_factory, tmp_path, fakes, no_env):
    """A third-party ``select_route`` written before failover existed answers the same provider again; the
    hub then ends the call with its failure instead of calling that provider twice."""
    from hubtest_plugins import hooks

    a, _ = fakes
    hooks.reset()
    settings = make_settings(tmp_path / "hub").with_(
        extra={"hubtest_base_url": a.base_url, "hubtest_api_key": str(a.api_key)}
    )
    server = hub_server_factory(settings, entry_points=[installed("openai"), entry_point("hooks")])
    a.fail_next(500, "upstream broke")
    with pytest.raises(openai.InternalServerError, match="upstream broke"):
        sdk(server).chat.completions.create(model="alias/gpt-4o-mini", messages=HELLO)
    assert len(chats(a)) == 1
    hooks.reset()


# --- which providers serve a bare name (no sockets) ----------------------------------------------------


class _Plugin(Provider):
    def __init__(self, name: str, known: tuple[str, ...] = (), model_for=None, kinds=("chat",)) -> None:
        self.name = name
        self.known_models = {"chat": known}
        self.capabilities = frozenset(kinds)
        self.credential_schema = {"required": ["api_key"]}
        if model_for is not None:
            self.model_for = model_for


def test_served_id_follows_config_plugin_lists_and_name_patterns():
    openrouter = _Plugin("openrouter", known=("openai/gpt-4o",))
    bedrock = _Plugin("bedrock", known=("us.anthropic.claude-sonnet-4-20250514-v1:0",))
    assert served_id("openrouter", openrouter, {}, "gpt-4o", "chat", []) == "openai/gpt-4o"  # its own list
    assert served_id("openrouter", openrouter, {}, "gpt-4.1", "chat", []) == "openai/gpt-4.1"  # pattern
    assert served_id("openrouter", openrouter, {}, "claude-opus-4", "chat", []) == "anthropic/claude-opus-4"
    assert served_id("bedrock", bedrock, {}, "claude-opus-4", "chat", []) == "anthropic.claude-opus-4"
    assert (
        served_id("bedrock", bedrock, {}, "claude-sonnet-4-20250514-v1:0", "chat", [])
        == "us.anthropic.claude-sonnet-4-20250514-v1:0"
    )
    assert served_id("bedrock", bedrock, {}, "gpt-4o", "chat", []) is None  # not a bedrock model
    poe = _Plugin("poe")
    assert served_id("poe", poe, {}, "grok-4", "chat", []) == "grok-4"
    assert served_id("poe", poe, {"models": ["claude-x"]}, "grok-4", "chat", []) is None  # the admin's list
    assert served_id("poe", poe, {}, "my-model", "chat", ["my-model"]) == "my-model"  # the upstream's list
    picky = _Plugin("picky", model_for=lambda m: f"v1:{m}" if m.startswith("x") else None)
    assert served_id("picky", picky, {}, "x-large", "chat", []) == "v1:x-large"
    assert served_id("picky", picky, {}, "gpt-4o", "chat", []) is None  # the plugin decides


def test_rotation_ranks_direct_providers_first_and_takes_turns():
    from hub_core.runtime.state import ProviderConfig, WeightedCredential
    from hub_core.types import Credential

    class Host:
        def enabled_providers(self):
            return {n: _Plugin(n) for n in ("poe", "openrouter", "openai", "ollama")}

    def config_of(name, provider):
        cred = WeightedCredential(Credential(1, "k", {"api_key": "x"}), 100)
        return ProviderConfig(name, 1, name, None, None, True, {}, [cred])

    router = BareModelRouter(Host(), config_of)  # type: ignore[arg-type]
    assert [(c.provider, c.model) for c in router.candidates("gpt-4o", "chat")] == [
        ("openai", "gpt-4o"),
        ("openrouter", "openai/gpt-4o"),
        ("poe", "gpt-4o"),
    ]
    firsts = [router.order("gpt-4o", "chat", frozenset())[0].provider for _ in range(4)]
    assert firsts == ["openai", "openrouter", "poe", "openai"]
    retry = router.order("gpt-4o", "chat", frozenset({"openrouter"}))
    assert [c.provider for c in retry] == ["openai", "poe"], "a failover attempt walks the rest in rank order"
