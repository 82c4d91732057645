"""xAI through the hub's OpenAI-compatible API, with the official openai SDK as the client."""

from __future__ import annotations

import openai
import pytest

from hub_core import Usage
from hub_core.testing import ChatConformance, ImageConformance, ProviderCase, openai_client, provider_hub


class TestXAIConformance(ChatConformance, ImageConformance):
    case = ProviderCase(
        "xai",
        chat_model="grok-4",
        image_model="grok-2-image-1212",
        usage_details=Usage(input_tokens=100, output_tokens=50, cached_input_tokens=40, reasoning_tokens=20),
        capabilities=frozenset({"chat", "image"}),
        listed_model="grok-3-mini-fast",
    )


@pytest.fixture
def server(hub_server_factory, provider_fake):
    return provider_hub(hub_server_factory, "xai", provider_fake)


@pytest.fixture
def client(server):
    return openai_client(server)


def test_wrong_key_400_is_a_refused_credential(client, server, provider_fake):
    provider_fake.api_key = "another-key"
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="xai/grok-4", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 502
    assert info.value.body["code"] == "upstream_auth_failed"
    assert "Incorrect API key" not in info.value.body["message"]  # what xAI said is for the admin
    assert "Incorrect API key" in server.wait_for_calls(1)[0]["error"]


def test_reasoning_stream_is_passed_through(client):
    stream = client.chat.completions.create(
        model="xai/grok-3-mini-fast", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert (
        "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "Thinking about a greeting."
    )
    assert "".join(d.content or "" for d in deltas) == "Echo: hi"


def test_image_fields_xai_rejects_are_dropped(client, provider_fake):
    result = client.images.generate(
        model="xai/grok-2-image-1212",
        prompt="a cat",
        size="1024x1024",
        quality="hd",
        response_format="b64_json",
    )
    assert result.data[0].b64_json
    sent = provider_fake.requests[-1].json
    assert "size" not in sent and "quality" not in sent and sent["response_format"] == "b64_json"
