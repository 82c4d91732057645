"""Ideogram through the hub's OpenAI-compatible images API, with the official openai SDK as the client."""

from __future__ import annotations

import openai
import pytest

from hub_core.testing.conformance import ImageConformance, ProviderCase


class TestIdeogramConformance(ImageConformance):
    case = ProviderCase(
        "ideogram",
        image_model="ideogram-v3",
        image_scenario_in_prompt=True,
        retry_after=None,
        capabilities=frozenset({"image"}),
    )


@pytest.fixture
def client(hub_server_factory, provider_fake):
    server = hub_server_factory()
    server.add_provider(
        "ideogram",
        base_url=f"{provider_fake.base_url}/v1/ideogram-v3/generate",
        credential=provider_fake.credential,
    )
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)


def test_request_becomes_ideograms_form(client, provider_fake):
    result = client.images.generate(
        model="ideogram/ideogram-v3-turbo",
        prompt="a lighthouse",
        n=2,
        size="1792x1024",
        extra_body={"negative_prompt": "people", "style_type": "REALISTIC", "seed": 7},
    )
    assert [d.url for d in result.data] == [
        f"{provider_fake.base_url}/ephemeral/image-{i}.png" for i in range(2)
    ]
    assert result.data[0].revised_prompt == "a lighthouse, detailed illustration"
    assert provider_fake.forms[-1] == {
        "prompt": "a lighthouse",
        "rendering_speed": "TURBO",
        "num_images": "2",
        "aspect_ratio": "16x9",
        "negative_prompt": "people",
        "style_type": "REALISTIC",
        "seed": "7",
    }
    assert provider_fake.requests[-1].headers["Api-Key"] == provider_fake.api_key


def test_host_only_base_url(hub_server_factory, provider_fake):
    server = hub_server_factory()
    server.add_provider("ideogram", base_url=provider_fake.base_url, credential=provider_fake.credential)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    assert client.images.generate(model="ideogram/ideogram-v3-quality", prompt="a cat").data[0].url
    assert provider_fake.forms[-1]["rendering_speed"] == "QUALITY"


def test_unsafe_result_is_a_content_policy_error(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="ideogram/ideogram-v3", prompt="unsafe")
    assert info.value.body["code"] == "content_policy_violation"


def test_chat_is_not_offered(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="ideogram/ideogram-v3", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.body["code"] == "unsupported_operation"
