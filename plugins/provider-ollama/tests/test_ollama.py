"""Ollama through the hub's OpenAI-compatible API, with the official openai SDK as the client."""

from __future__ import annotations

import openai
import pytest

from hub_core import Usage
from hub_core.testing import (
    PNG_1PX_DATA_URL,
    ChatConformance,
    EmbeddingConformance,
    ProviderCase,
    openai_client,
    provider_hub,
)


class TestOllamaConformance(ChatConformance, EmbeddingConformance):
    case = ProviderCase(
        "ollama",
        chat_model="llama3.2",
        embedding_model="nomic-embed-text",
        usage_details=Usage(input_tokens=100, output_tokens=50),  # Ollama reports no cached/reasoning counts
        retry_after=None,
        capabilities=frozenset({"chat", "embedding"}),
        listed_model="llama3.2:latest",
    )


@pytest.fixture
def server(hub_server_factory, provider_fake):
    return provider_hub(hub_server_factory, "ollama", provider_fake)  # a local Ollama needs no key


@pytest.fixture
def client(server):
    return openai_client(server)


def test_request_is_translated_to_ollamas_shape(client, provider_fake):
    client.chat.completions.create(
        model="ollama/llama3.2",
        messages=[
            {"role": "system", "content": "Be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is "},
                    {"type": "text", "text": "this?"},
                    {"type": "image_url", "image_url": {"url": PNG_1PX_DATA_URL}},
                ],
            },
        ],
        temperature=0.3,
        max_tokens=64,
        stop=["\n\n"],
        seed=7,
        response_format={"type": "json_object"},
    )
    sent = provider_fake.requests[-1]
    assert sent.path == "/api/chat" and "Authorization" not in sent.headers
    body = sent.json
    assert body["stream"] is False and body["format"] == "json"
    assert body["options"] == {"temperature": 0.3, "num_predict": 64, "stop": ["\n\n"], "seed": 7}
    assert body["messages"][0] == {"role": "system", "content": "Be brief"}
    assert body["messages"][1]["content"] == "what is this?"
    assert body["messages"][1]["images"] == [PNG_1PX_DATA_URL.split(",", 1)[1]]


def test_tool_history_is_translated(client, provider_fake):
    client.chat.completions.create(
        model="ollama/llama3.2",
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "cold"},
        ],
    )
    messages = provider_fake.requests[-1].json["messages"]
    assert messages[1]["tool_calls"] == [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]
    assert messages[2] == {"role": "tool", "content": "cold", "tool_name": "get_weather"}


def test_thinking_becomes_reasoning_content(client, provider_fake):
    reply = client.chat.completions.create(
        model="ollama/deepseek-r1", messages=[{"role": "user", "content": "hi"}], reasoning_effort="high"
    )
    assert provider_fake.requests[-1].json["think"] == "high"
    assert reply.choices[0].message.reasoning_content == "Let me think."
    stream = client.chat.completions.create(
        model="ollama/deepseek-r1",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        extra_body={"think": True},
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "Let me think."


def test_remote_image_urls_are_refused_before_calling_ollama(client, provider_fake):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="ollama/llava",
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "https://x/cat.png"}}],
                }
            ],
        )
    assert "data: URLs" in info.value.body["message"]
    assert provider_fake.requests == []


def test_missing_model_is_a_404(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="ollama/missing", messages=[{"role": "user", "content": "hi"}])
    assert "try pulling it first" in info.value.body["message"]


def test_host_only_base_url_and_optional_api_key(hub_server_factory, keyed_ollama):
    server = hub_server_factory()
    server.add_provider(
        "ollama", base_url=f"http://127.0.0.1:{keyed_ollama.port}", credential="ollama-cloud-key"
    )
    client = openai_client(server)
    reply = client.chat.completions.create(
        model="ollama/llama3.2", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    sent = keyed_ollama.requests[-1]
    assert sent.path == "/api/chat" and sent.headers["Authorization"] == "Bearer ollama-cloud-key"


def test_embeddings_in_base64_when_asked(client, provider_fake):
    import base64
    import struct

    result = client.embeddings.create(
        model="ollama/nomic-embed-text", input="one two", encoding_format="base64"
    )
    packed = base64.b64decode(result.data[0].embedding)
    assert len(struct.unpack(f"<{len(packed) // 4}f", packed)) == 6
