"""DeepSeek through the hub's OpenAI-compatible API, with the official openai SDK as the client."""

from __future__ import annotations

import openai
import pytest

from hub_core import Usage
from hub_core.testing import ChatConformance, ProviderCase, openai_client, provider_hub


class TestDeepSeekConformance(ChatConformance):
    case = ProviderCase(
        "deepseek",
        chat_model="deepseek-chat",
        # the fake's usage-details answer has only prompt_cache_hit_tokens=40, no prompt_tokens_details
        usage_details=Usage(input_tokens=100, output_tokens=50, cached_input_tokens=40, reasoning_tokens=20),
        usage_details_in_answer=False,
        listed_model="deepseek-reasoner",
    )


@pytest.fixture
def client(hub_server_factory, provider_fake):
    return openai_client(provider_hub(hub_server_factory, "deepseek", provider_fake))


def test_reasoning_content_is_passed_through(client, provider_fake):
    reply = client.chat.completions.create(
        model="deepseek/deepseek-reasoner", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    assert reply.choices[0].message.reasoning_content == "The user greets me. I echo."

    stream = client.chat.completions.create(
        model="deepseek/deepseek-reasoner", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert (
        "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "The user greets me. I echo."
    )
    assert "".join(d.content or "" for d in deltas) == "Echo: hi"


def test_request_reaches_deepseek_as_sent(client, provider_fake):
    client.chat.completions.create(
        model="deepseek/deepseek-chat",
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.2,
        stream=True,
    ).close()
    sent = provider_fake.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-fake-vendor-key"
    assert sent.json["model"] == "deepseek-chat" and sent.json["temperature"] == 0.2
    assert sent.json["stream_options"] == {"include_usage": True}, "the hub always asks for usage"


def test_empty_balance_is_the_hubs_problem(client, provider_fake):
    provider_fake.fail_next(402, "Insufficient Balance")
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(
            model="deepseek/deepseek-chat", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.status_code == 502
    assert info.value.body["code"] == "upstream_payment_required"
    assert "Insufficient Balance" in info.value.body["message"]


def test_env_key_is_used_without_stored_credential(hub_server_factory, provider_fake, monkeypatch):
    monkeypatch.setenv("DEEPSEEK_API_KEY", provider_fake.api_key)
    server = hub_server_factory()
    server.add_provider("deepseek", base_url=provider_fake.base_url)
    client = openai_client(server)
    reply = client.chat.completions.create(
        model="deepseek/deepseek-chat", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"


def test_cache_hits_in_deepseeks_own_fields_reach_client_and_log(hub_server_factory, provider_fake):
    server = provider_hub(hub_server_factory, "deepseek", provider_fake)
    client = openai_client(server)
    reply = client.chat.completions.create(
        model="deepseek/usage-details", messages=[{"role": "user", "content": "hi"}]
    )
    assert (reply.usage.prompt_cache_hit_tokens, reply.usage.prompt_cache_miss_tokens) == (40, 60)
    assert server.wait_for_calls(1)[0]["cached_tokens"] == 40
