"""Poe through the hub's OpenAI-compatible API, with the official openai SDK as the client."""

from __future__ import annotations

import openai
import pytest

from hub_core import Usage
from hub_core.testing import ChatConformance, ProviderCase, openai_client, provider_hub


class TestPoeConformance(ChatConformance):
    case = ProviderCase(
        "poe",
        chat_model="Claude-Sonnet-4",
        usage_details=Usage(input_tokens=100, output_tokens=50, cached_input_tokens=40, reasoning_tokens=20),
        listed_model="GPT-5-mini",
    )


@pytest.fixture
def client(hub_server_factory, provider_fake):
    return openai_client(provider_hub(hub_server_factory, "poe", provider_fake))


def test_bot_name_reaches_poe_unchanged(client, provider_fake):
    reply = client.chat.completions.create(
        model="poe/Gemini-2.5-Flash", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    assert provider_fake.requests[-1].json["model"] == "Gemini-2.5-Flash"
    assert provider_fake.requests[-1].headers["Authorization"] == "Bearer poe-fake-key-0123456789"


def test_no_compute_points_left_is_the_hubs_problem(client, provider_fake):
    provider_fake.fail_next(402, "You have run out of compute points")
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="poe/GPT-5-mini", messages=[{"role": "user", "content": "hi"}])
    assert (info.value.status_code, info.value.body["code"]) == (502, "upstream_payment_required")
    assert "compute points" in info.value.body["message"]
