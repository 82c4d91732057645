"""The OpenAI-compatible API through a running hub, with the official openai SDK as the client: chat, tool
calls, image parts, structured output, embeddings (float and base64), images and the model list."""

from __future__ import annotations

import base64
import json
import struct

import openai
import pytest

from hub_core.testing.fake_openai import PNG_1PX

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


@pytest.fixture
def client(hub) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{hub.url}/v1", api_key=hub.create_key(), max_retries=0)


def upstream_bodies(fake, path: str) -> list[dict]:
    return [r["body"] for r in fake.requests if r["path"] == path]


def test_chat_non_streaming(client, fake_openai_thread):
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}],
        temperature=0.2,
    )
    assert reply.object == "chat.completion"
    assert reply.choices[0].message.content == "Echo: hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens == 3
    sent = upstream_bodies(fake_openai_thread, "/v1/chat/completions")[-1]
    # the provider prefix is stripped, everything else goes upstream as the client sent it
    assert sent["model"] == "gpt-4o-mini"
    assert sent["temperature"] == 0.2
    assert "stream" not in sent


def test_tool_calls_non_streaming(client, fake_openai_thread):
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=TOOLS,
        tool_choice="auto",
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.id == "call_fake_1"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert upstream_bodies(fake_openai_thread, "/v1/chat/completions")[-1]["tools"] == TOOLS

    # the tool result goes back up as an ordinary message with role "tool"
    follow = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
    )
    assert follow.choices[0].message.content is not None
    sent = upstream_bodies(fake_openai_thread, "/v1/chat/completions")[-1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_fake_1"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_fake_1", "content": "sunny"}


def test_tool_calls_streaming_are_accumulated_by_the_sdk(client):
    with client.chat.completions.stream(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=TOOLS,
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in events
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_image_content_part_reaches_upstream_unchanged(client, fake_openai_thread):
    data_url = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is in this picture"},
                {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}},
            ],
        }
    ]
    reply = client.chat.completions.create(model="openai/gpt-4o", messages=messages)
    assert reply.choices[0].message.content == "Echo: what is in this picture"
    assert upstream_bodies(fake_openai_thread, "/v1/chat/completions")[-1]["messages"] == messages


def test_response_format_json_schema_reaches_upstream(client, fake_openai_thread):
    response_format = {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
                "required": ["answer"],
                "additionalProperties": False,
            },
        },
    }
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "say hi"}],
        response_format=response_format,
    )
    assert json.loads(reply.choices[0].message.content) == {"answer": "Echo: say hi"}
    assert (
        upstream_bodies(fake_openai_thread, "/v1/chat/completions")[-1]["response_format"] == response_format
    )


def _expected_vector(text: str, dims: int = 8) -> list[float]:
    # the fake's deterministic embedding for one input
    return [round(((len(text) + j) % 7) / 7 - 0.5, 6) for j in range(dims)]


def test_embeddings_float(client, fake_openai_thread):
    result = client.embeddings.create(
        model="openai/text-embedding-3-small", input=["hello world", "hi"], encoding_format="float"
    )
    assert [d.index for d in result.data] == [0, 1]
    assert result.data[0].embedding == _expected_vector("hello world")
    assert result.data[1].embedding == _expected_vector("hi")
    assert result.usage.prompt_tokens == 3
    assert upstream_bodies(fake_openai_thread, "/v1/embeddings")[-1]["encoding_format"] == "float"


def test_embeddings_base64_default_of_the_sdk_is_decoded(client, fake_openai_thread):
    result = client.embeddings.create(model="openai/text-embedding-3-small", input="hello world")
    # the SDK asks for base64 on its own and decodes it back to floats
    assert upstream_bodies(fake_openai_thread, "/v1/embeddings")[-1]["encoding_format"] == "base64"
    expected = _expected_vector("hello world")
    assert result.data[0].embedding == pytest.approx(expected, abs=1e-6)


def test_embeddings_base64_explicit_passes_through(client):
    result = client.embeddings.create(
        model="openai/text-embedding-3-small", input="abc", encoding_format="base64", dimensions=4
    )
    raw = base64.b64decode(result.data[0].embedding)
    assert list(struct.unpack("<4f", raw)) == pytest.approx(_expected_vector("abc", 4), abs=1e-6)


def test_images_b64_json(client, hub):
    result = client.images.generate(
        model="openai/dall-e-3", prompt="a red pixel", response_format="b64_json", n=2
    )
    assert len(result.data) == 2
    assert base64.b64decode(result.data[0].b64_json) == PNG_1PX
    row = hub.wait_for_calls(1)[-1]
    assert (row["kind"], row["images"], row["status"]) == ("image", 2, "success")


def test_images_url(client, fake_openai_thread):
    result = client.images.generate(model="openai/dall-e-3", prompt="a red pixel", response_format="url")
    assert result.data[0].url == f"http://127.0.0.1:{fake_openai_thread.port}/files/fake.png"
    assert result.data[0].b64_json is None


def test_models_lists_usable_providers(client):
    ids = [m.id for m in client.models.list()]
    assert "openai/gpt-4o-mini" in ids
    assert "openai/text-embedding-3-small" in ids
    assert all("/" in i for i in ids)


def test_models_leaves_out_unusable_providers(hub_server_factory, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    bare = hub_server_factory()  # no provider row, no env key: openai cannot be used
    client = openai.OpenAI(base_url=f"{bare.url}/v1", api_key=bare.create_key(), max_retries=0)
    assert not [m.id for m in client.models.list() if m.id.startswith("openai/")]

    # a provider disabled by the admin is not usable either
    from hub_core.admin import providers

    bare.add_provider("openai", base_url="http://127.0.0.1:9/v1", credential="sk-unused-credential")
    assert [m.id for m in client.models.list() if m.id.startswith("openai/")]

    async def disable() -> None:
        await providers.update_provider(bare.hub.settings, "openai", {"enabled": False})
        await bare.hub.state.reload()

    bare.run(disable)
    assert not [m.id for m in client.models.list() if m.id.startswith("openai/")]
