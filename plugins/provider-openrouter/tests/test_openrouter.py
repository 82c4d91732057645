"""OpenRouter through the hub's OpenAI-compatible API, with the official openai SDK as the client."""

from __future__ import annotations

import openai
import pytest

from hub_core import Usage
from hub_core.testing import ChatConformance, ProviderCase, openai_client, provider_hub


class TestOpenRouterConformance(ChatConformance):
    case = ProviderCase(
        "openrouter",
        chat_model="openai/gpt-4o-mini",
        usage_details=Usage(
            input_tokens=100,
            output_tokens=50,
            cached_input_tokens=40,
            cache_write_tokens=10,
            reasoning_tokens=20,
        ),
        scenario_model=lambda scenario: f"openai/{scenario}",
        listed_model="anthropic/claude-sonnet-4",
    )


@pytest.fixture
def server(hub_server_factory, provider_fake):
    return provider_hub(
        hub_server_factory,
        "openrouter",
        provider_fake,
        config={"httpReferer": "https://example.org/my-hub", "appTitle": "My Hub"},
    )


@pytest.fixture
def client(server):
    return openai_client(server)


def test_vendor_model_ids_and_attribution_headers(client, provider_fake):
    reply = client.chat.completions.create(
        model="openrouter/anthropic/claude-sonnet-4", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    sent = provider_fake.requests[-1]
    assert sent.json["model"] == "anthropic/claude-sonnet-4"
    assert sent.headers["HTTP-Referer"] == "https://example.org/my-hub"
    assert sent.headers["X-Title"] == "My Hub"


@pytest.mark.parametrize(
    ("bare", "expected"),
    [
        ("gpt-4o-mini", "openai/gpt-4o-mini"),
        ("claude-sonnet-4", "anthropic/claude-sonnet-4"),
        ("grok-4", "x-ai/grok-4"),
    ],
)
def test_bare_model_gets_its_vendor(client, provider_fake, bare, expected):
    client.chat.completions.create(model=f"openrouter/{bare}", messages=[{"role": "user", "content": "hi"}])
    assert provider_fake.requests[-1].json["model"] == expected


def test_cost_reaches_the_client_and_cache_tokens_the_log(client, server):
    reply = client.chat.completions.create(
        model="openrouter/openai/usage-details", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.usage.cost == 0.000123
    assert reply.usage.prompt_tokens_details.cached_tokens == 40
    row = server.wait_for_calls(1)[0]
    assert (row["cached_tokens"], row["cache_write_tokens"], row["reasoning_tokens"]) == (40, 10, 20)


def test_default_attribution_headers(hub_server_factory, provider_fake):
    server = provider_hub(hub_server_factory, "openrouter", provider_fake)
    client = openai_client(server)
    client.chat.completions.create(
        model="openrouter/openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert provider_fake.requests[-1].headers["X-Title"] == "AIGNE Hub"


def test_out_of_credits_is_the_hubs_problem(client, provider_fake):
    provider_fake.fail_next(402, "Insufficient credits. Add more using https://openrouter.ai/credits")
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(
            model="openrouter/openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert (info.value.status_code, info.value.body["code"]) == (502, "upstream_payment_required")
