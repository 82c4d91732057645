"""Google Gemini through the hub's OpenAI-compatible API, with the official openai SDK as the client."""

from __future__ import annotations

import json

import openai
import pytest

from hub_core import Usage
from hub_core.testing import (
    PNG_1PX_DATA_URL,
    WEATHER_TOOL,
    ChatConformance,
    EmbeddingConformance,
    ImageConformance,
    ProviderCase,
    openai_client,
    provider_hub,
)


class TestGeminiConformance(ChatConformance, EmbeddingConformance, ImageConformance):
    case = ProviderCase(
        "google",
        chat_model="gemini-2.5-flash",
        embedding_model="gemini-embedding-001",
        image_model="imagen-4.0-generate-001",
        # promptTokenCount 100 (40 cached), candidatesTokenCount 30 + thoughtsTokenCount 20
        usage_details=Usage(input_tokens=100, output_tokens=50, cached_input_tokens=40, reasoning_tokens=20),
        # Gemini sends no Retry-After header: the plugin derives it from RetryInfo.retryDelay (6.5s → 7)
        retry_after="7",
        # "imagen-" keeps image scenarios on Imagen's :predict; chat and embeddings only read the suffix
        scenario_model=lambda scenario: f"imagen-{scenario}",
        capabilities=frozenset({"chat", "embedding", "image", "video"}),
        listed_model="gemini-embedding-001",
    )


@pytest.fixture
def server(hub_server_factory, provider_fake):
    return provider_hub(hub_server_factory, "google", provider_fake)


@pytest.fixture
def client(server):
    return openai_client(server)


def test_request_is_translated_to_gemini(client, provider_fake):
    client.chat.completions.create(
        model="google/gemini-2.5-flash",
        messages=[
            {"role": "system", "content": "Be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": PNG_1PX_DATA_URL}},
                ],
            },
        ],
        temperature=0.2,
        top_p=0.9,
        max_tokens=100,
        stop="END",
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
        reasoning_effort="low",
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    sent = provider_fake.requests[-1]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == provider_fake.api_key and "Authorization" not in sent.headers
    body = sent.json
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief"}]}
    assert body["contents"][0]["parts"][0] == {"text": "what is this?"}
    assert body["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "image/png"
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "maxOutputTokens": 100,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
        "thinkingConfig": {"thinkingBudget": 1024},
    }
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_weather" and declaration["parametersJsonSchema"]["required"] == [
        "city"
    ]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }


def test_tool_history_becomes_function_parts(client, provider_fake):
    client.chat.completions.create(
        model="google/gemini-2.5-flash",
        messages=[
            {"role": "user", "content": "weather in Oslo and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    },
                    {
                        "id": "b",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "cold"},
            {"role": "tool", "tool_call_id": "b", "content": '{"time": "12:00"}'},
        ],
    )
    contents = provider_fake.requests[-1].json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"], "tool results share one user turn"
    assert contents[1]["parts"][0]["functionCall"] == {"name": "get_weather", "args": {"city": "Oslo"}}
    assert contents[1]["parts"][0]["thoughtSignature"] == "skip_thought_signature_validator"
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "cold"}}},
        {"functionResponse": {"name": "get_time", "response": {"time": "12:00"}}},
    ]


def test_stream_goes_to_sse_endpoint(client, provider_fake):
    list(
        client.chat.completions.create(
            model="google/gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    sent = provider_fake.requests[-1]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == {"alt": "sse"}


def test_thoughts_become_reasoning_content(client):
    thinking = {"generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    reply = client.chat.completions.create(
        model="google/gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}], extra_body=thinking
    )
    assert reply.choices[0].message.reasoning_content == "I should echo the question."
    assert reply.choices[0].message.content == "Echo: hi"
    stream = client.chat.completions.create(
        model="google/gemini-2.5-flash",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        extra_body=thinking,
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert (
        "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "I should echo the question."
    )
    assert "".join(d.content or "" for d in deltas) == "Echo: hi"


def test_several_candidates_become_choices(client):
    reply = client.chat.completions.create(
        model="google/gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}], n=2
    )
    assert [c.message.content for c in reply.choices] == ["Echo: hi", "Echo: hi #2"]
    assert [c.index for c in reply.choices] == [0, 1]


def test_single_embedding_uses_embed_content(client, provider_fake):
    result = client.embeddings.create(model="google/gemini-embedding-001", input="one two", dimensions=4)
    assert len(result.data) == 1 and len(result.data[0].embedding) == 4
    sent = provider_fake.requests[-1]
    assert sent.path.endswith("gemini-embedding-001:embedContent")
    assert sent.json == {"content": {"parts": [{"text": "one two"}]}, "outputDimensionality": 4}
    assert result.usage.prompt_tokens == 2, "estimated: Gemini reports no embedding usage"


def test_imagen_request_shape(client, provider_fake):
    result = client.images.generate(
        model="google/imagen-4.0-generate-001", prompt="a cat", n=3, size="1792x1024"
    )
    assert len(result.data) == 3 and result.data[0].b64_json
    sent = provider_fake.requests[-1]
    assert sent.path.endswith("imagen-4.0-generate-001:predict")
    assert sent.json == {
        "instances": [{"prompt": "a cat"}],
        "parameters": {"sampleCount": 3, "aspectRatio": "16:9"},
    }


def test_gemini_image_model(client, server, provider_fake):
    result = client.images.generate(model="google/gemini-2.5-flash-image", prompt="a cat", size="1024x1024")
    assert result.data[0].b64_json and result.data[0].revised_prompt == "Here is a cat."
    sent = provider_fake.requests[-1].json
    assert sent["generationConfig"] == {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "1:1"},
    }
    row = server.wait_for_calls(1)[0]
    assert (row["images"], row["output_tokens"]) == (1, 1290)


def test_wrong_key_is_a_refused_credential(client, server, provider_fake):
    provider_fake.api_key = "another"
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(
            model="google/gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}]
        )
    assert (info.value.status_code, info.value.body["code"]) == (502, "upstream_auth_failed")
    assert "API key not valid" not in info.value.body["message"]  # what Google said is for the admin
    assert "API key not valid" in server.wait_for_calls(1)[0]["error"]


def test_tool_call_arguments_are_json(client):
    reply = client.chat.completions.create(
        model="google/gemini-2.5-flash",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
    )
    assert json.loads(reply.choices[0].message.tool_calls[0].function.arguments) == {"city": "Paris"}


def post_json(url: str, body: dict, key: str) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_veo_video_job_is_created_polled_and_downloaded(server, provider_fake):
    import base64

    body = {
        "input": {
            "prompt": "A cat on a piano",
            "model": "google/veo-3.0-generate-001",
            "seconds": "6",
            "size": "1920x1080",
            "outputFileType": "file",
        }
    }
    status, out = post_json(f"{server.url}/api/v2/video", body, server.create_key())
    assert status == 200, out
    clip = out["videos"][0]
    assert clip["mimeType"] == "video/mp4" and base64.b64decode(clip["data"]).startswith(
        b"\x00\x00\x00\x18ftyp"
    )
    assert out["seconds"] == 6
    create = next(r for r in provider_fake.requests if r.path.endswith(":predictLongRunning"))
    assert create.json == {
        "instances": [{"prompt": "A cat on a piano"}],
        "parameters": {"aspectRatio": "16:9", "resolution": "1080p", "durationSeconds": 6},
    }
    polls = [r for r in provider_fake.requests if "/operations/" in r.path]
    assert len(polls) == 2 and all(r.headers["x-goog-api-key"] == provider_fake.api_key for r in polls)
    assert provider_fake.requests[-1].path.startswith("/v1beta/files/")
    row = server.wait_for_calls(1)[0]
    assert (row["kind"], row["status"], row["seconds"]) == ("video", "success", 6)


def test_veo_filtered_video_is_an_error(server):
    body = {"input": {"prompt": "filtered", "model": "google/veo-3.0-generate-001", "outputFileType": "file"}}
    status, out = post_json(f"{server.url}/api/v2/video", body, server.create_key())
    assert status == 502 and "blocked by safety filters" in out["error"]["message"]
