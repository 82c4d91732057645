"""Amazon Bedrock through the hub's OpenAI-compatible API, with the official openai SDK as the client."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import openai
import pytest

from hub_core import Route
from hub_core.testing.conformance import WEATHER_TOOL, ChatConformance, ProviderCase
from hub_core.testing.fake_server import PNG_1PX_DATA_URL
from hub_core.types import Credential, Usage


def plugin_module():
    """The plugin module as installed (the tests of an installed plugin import it by name)."""
    import hub_provider_bedrock

    return hub_provider_bedrock


class TestBedrockConformance(ChatConformance):
    case = ProviderCase(
        "bedrock",
        chat_model="us.amazon.nova-lite-v1:0",
        # inputTokens 50 + cacheReadInputTokens 40 + cacheWriteInputTokens 10; no reasoning count in Converse
        usage_details=Usage(
            input_tokens=100, output_tokens=50, cached_input_tokens=40, cache_write_tokens=10
        ),
        retry_after=None,  # Bedrock sends no Retry-After with ThrottlingException
    )


@pytest.fixture
def server(hub_server_factory, provider_fake):
    server = hub_server_factory()
    server.add_provider("bedrock", base_url=provider_fake.base_url, credential=provider_fake.credential)
    return server


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)


def test_signer_matches_aws_test_vector():
    """AWS's published SigV4 test suite, case get-vanilla."""
    mod = plugin_module()
    signature = mod.sigv4_signature(
        method="GET",
        raw_path="/",
        query={},
        headers={"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"},
        signed_headers=["host", "x-amz-date"],
        payload_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        amz_date="20150830T123600Z",
        region="us-east-1",
        service="service",
    )
    assert signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"


def test_every_request_is_signed_and_verified(client, provider_fake):
    client.chat.completions.create(
        model="bedrock/us.amazon.nova-lite-v1:0", messages=[{"role": "user", "content": "hi"}]
    )
    list(
        client.chat.completions.create(
            model="bedrock/us.amazon.nova-lite-v1:0",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        )
    )
    assert provider_fake.signature_checks == 2
    sent = provider_fake.requests[-1]
    assert sent.path == "/model/us.amazon.nova-lite-v1:0/converse-stream"
    assert sent.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAFAKEBEDROCK00001/")
    assert "/eu-central-1/bedrock/aws4_request" in sent.headers["Authorization"]


def test_wrong_secret_is_a_refused_credential(hub_server_factory, provider_fake):
    server = hub_server_factory()
    server.add_provider(
        "bedrock",
        base_url=provider_fake.base_url,
        credential={**provider_fake.credential, "secret_access_key": "wrong"},
    )
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(
            model="bedrock/us.amazon.nova-lite-v1:0", messages=[{"role": "user", "content": "hi"}]
        )
    assert (info.value.status_code, info.value.body["code"]) == (502, "upstream_auth_failed")
    assert "signature we calculated does not match" in info.value.body["message"]


def test_inference_profile_arn_with_slash_is_one_signed_segment(client, provider_fake):
    arn = (
        "arn:aws:bedrock:eu-central-1:123456789012:inference-profile/"
        "eu.anthropic.claude-3-5-haiku-20241022-v1:0"
    )
    reply = client.chat.completions.create(
        model=f"bedrock/{arn}", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    assert provider_fake.signature_checks == 1


def test_request_is_translated_to_converse(client, provider_fake):
    client.chat.completions.create(
        model="bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0",
        messages=[
            {"role": "system", "content": "Be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": PNG_1PX_DATA_URL}},
                ],
            },
            {"role": "user", "content": "and answer"},
        ],
        max_tokens=2000,
        temperature=0.5,
        top_p=0.8,
        stop=["END"],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        reasoning_effort="low",
    )
    body = provider_fake.requests[-1].json
    assert body["system"] == [{"text": "Be brief"}]
    assert [m["role"] for m in body["messages"]] == ["user"], "consecutive user turns are merged"
    image = body["messages"][0]["content"][1]["image"]
    assert image["format"] == "png" and image["source"]["bytes"] == PNG_1PX_DATA_URL.split(",", 1)[1]
    assert body["inferenceConfig"] == {
        "maxTokens": 2000,
        "temperature": 0.5,
        "topP": 0.8,
        "stopSequences": ["END"],
    }
    assert body["toolConfig"]["toolChoice"] == {"any": {}}
    assert body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"] == ["city"]
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}


def test_tool_history_becomes_tool_blocks(client, provider_fake):
    client.chat.completions.create(
        model="bedrock/us.amazon.nova-lite-v1:0",
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "t1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": '{"temp": -3}'},
        ],
    )
    messages = provider_fake.requests[-1].json["messages"]
    assert messages[1]["content"] == [
        {"text": "Let me look."},
        {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}},
    ]
    assert messages[2]["content"] == [
        {"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp": -3}}]}}
    ]


def test_env_credentials(hub_server_factory, provider_fake, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", provider_fake.credential["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", provider_fake.credential["secret_access_key"])
    monkeypatch.setenv("AWS_REGION", provider_fake.region)
    server = hub_server_factory()
    server.add_provider("bedrock", base_url=provider_fake.base_url)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    reply = client.chat.completions.create(
        model="bedrock/us.amazon.nova-lite-v1:0", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"


def test_default_url_carries_the_region():
    mod = plugin_module()
    provider = mod.BedrockProvider()
    cred = Credential(
        1,
        "k",
        {"access_key_id": "AKIA0000000000000000", "secret_access_key": "s", "region": "ap-northeast-1"},
    )
    route = Route(provider, "bedrock", "us.amazon.nova-lite-v1:0", provider.default_base_url, cred)
    req = provider.build_request("chat", {"messages": [{"role": "user", "content": "hi"}]}, route, False)
    assert (
        req.url
        == "https://bedrock-runtime.ap-northeast-1.amazonaws.com/model/us.amazon.nova-lite-v1%3A0/converse"
    )
    provider.apply_credential(req, cred)
    assert "/ap-northeast-1/bedrock/aws4_request" in req.headers["Authorization"]
    assert req.headers["Host"] == "bedrock-runtime.ap-northeast-1.amazonaws.com"
    assert json.loads(req.body) == {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    assert req.headers["X-Amz-Date"][:8] == datetime.now(UTC).strftime("%Y%m%d")


def test_event_stream_decoder_rejects_corrupt_frames():
    mod = plugin_module()
    frame = mod.encode_event({":event-type": "messageStop"}, b'{"stopReason":"end_turn"}')
    decoder = mod.EventStreamDecoder()
    assert [h[":event-type"] for h, _ in decoder.feed(frame[:7])] == []
    assert [h[":event-type"] for h, _ in decoder.feed(frame[7:])] == ["messageStop"]
    broken = frame[:-1] + bytes([frame[-1] ^ 1])
    with pytest.raises(mod.EventStreamError):
        list(mod.EventStreamDecoder().feed(broken))
