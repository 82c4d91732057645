"""Doubao (Volcengine Ark) through the hub's OpenAI-compatible API, with the official openai SDK as client."""

from __future__ import annotations

import pytest

from hub_core import Usage
from hub_core.testing import (
    ChatConformance,
    EmbeddingConformance,
    ImageConformance,
    ProviderCase,
    openai_client,
    provider_hub,
)


class TestDoubaoConformance(ChatConformance, EmbeddingConformance, ImageConformance):
    case = ProviderCase(
        "doubao",
        chat_model="doubao-1-5-pro-32k-250115",
        embedding_model="doubao-embedding-text-240715",
        image_model="doubao-seedream-4-0-250828",
        usage_details=Usage(input_tokens=100, output_tokens=50, cached_input_tokens=40, reasoning_tokens=20),
        capabilities=frozenset({"chat", "embedding", "image"}),
        listed_model="doubao-seedream-4-0-250828",
    )


@pytest.fixture
def server(hub_server_factory, provider_fake):
    return provider_hub(hub_server_factory, "doubao", provider_fake)


@pytest.fixture
def client(server):
    return openai_client(server)


def test_thinking_switch_and_reasoning_content_pass_through(client, provider_fake):
    reply = client.chat.completions.create(
        model="doubao/doubao-seed-1-6-250615",
        messages=[{"role": "user", "content": "你好"}],
        extra_body={"thinking": {"type": "enabled"}},
    )
    assert reply.choices[0].message.reasoning_content == "用户在打招呼。"
    assert reply.choices[0].message.content == "Echo: 你好"
    assert provider_fake.requests[-1].json["thinking"] == {"type": "enabled"}


def test_several_images_become_a_sequential_request(client, server, provider_fake):
    result = client.images.generate(
        model="doubao/doubao-seedream-4-0-250828", prompt="a cat", n=3, size="2K", response_format="b64_json"
    )
    assert len(result.data) == 3 and result.data[0].b64_json
    sent = provider_fake.requests[-1].json
    assert "n" not in sent
    assert sent["sequential_image_generation"] == "auto"
    assert sent["sequential_image_generation_options"] == {"max_images": 3}
    assert server.wait_for_calls(1)[0]["images"] == 3


def test_single_image_sends_no_n(client, provider_fake):
    client.images.generate(
        model="doubao/doubao-seedream-4-0-250828", prompt="a cat", extra_body={"watermark": False}
    )
    sent = provider_fake.requests[-1].json
    assert "n" not in sent and "sequential_image_generation" not in sent
    assert sent["watermark"] is False
