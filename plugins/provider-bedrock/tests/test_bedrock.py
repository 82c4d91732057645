"""Amazon Bedrock through the hub, with the official openai (and anthropic) SDKs as clients: signing,
regions, the Converse translation both ways, reasoning, streams and Bedrock's errors."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import hub_provider_bedrock as bedrock
import openai
import pytest

from hub_core import Credential, HubError, Route, UpstreamRequest
from hub_core.testing import PNG_1PX_DATA_URL, WEATHER_TOOL, HubServer, openai_client

NOVA = "bedrock/us.amazon.nova-lite-v1:0"
CLAUDE = "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0"
HI = [{"role": "user", "content": "hi"}]


def sdk(server: HubServer, retries: int = 0) -> openai.OpenAI:
    return openai_client(server, max_retries=retries)


def hub_with(factory: Callable[..., HubServer], fake: Any, credential: Any, **provider: Any) -> HubServer:
    server = factory()
    server.add_provider("bedrock", base_url=fake.base_url, credential=credential, **provider)
    return server


# --- signing and regions ------------------------------------------------------------------------------------


def test_every_request_is_signed_and_verified(client: openai.OpenAI, provider_fake: Any) -> None:
    client.chat.completions.create(model=NOVA, messages=HI)
    list(client.chat.completions.create(model=NOVA, messages=HI, stream=True))
    assert [v["key"] for v in provider_fake.verified] == ["AKIAFAKEBEDROCK00001"] * 2
    assert {v["region"] for v in provider_fake.verified} == {"eu-central-1"}
    assert provider_fake.verified[0]["signed"] == "content-type;host;x-amz-content-sha256;x-amz-date"
    paths = [r.path for r in provider_fake.requests]
    assert paths == [
        "/model/us.amazon.nova-lite-v1:0/converse",
        "/model/us.amazon.nova-lite-v1:0/converse-stream",
    ]
    assert provider_fake.requests[-1].headers["Accept"] == "application/vnd.amazon.eventstream"


def test_temporary_credentials_send_the_session_token(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any
) -> None:
    server = hub_with(hub_server_factory, provider_fake, provider_fake.temporary_credential)
    reply = sdk(server).chat.completions.create(model=NOVA, messages=HI)
    assert reply.choices[0].message.content == "Echo: hi"
    assert provider_fake.verified[-1]["key"] == "ASIAFAKEBEDROCKTEMP1"
    assert provider_fake.verified[-1]["signed"].endswith("x-amz-date;x-amz-security-token")
    assert (
        provider_fake.last.headers["X-Amz-Security-Token"]
        == provider_fake.temporary_credential["session_token"]
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret_access_key": "wrong-secret"}, "signature we calculated does not match"),
        ({"access_key_id": "AKIAUNKNOWNKEY000000"}, "security token included in the request is invalid"),
    ],
    ids=["wrong-secret", "unknown-key"],
)
def test_refused_keys_are_refused_credentials(
    hub_server_factory: Callable[..., HubServer],
    provider_fake: Any,
    change: dict[str, str],
    message: str,
    stream: bool,
) -> None:
    server = hub_with(hub_server_factory, provider_fake, {**provider_fake.credential, **change})
    client = sdk(server)
    with pytest.raises(openai.APIStatusError) as info:
        list(client.chat.completions.create(model=NOVA, messages=HI, stream=stream))
    assert (info.value.status_code, info.value.body["code"]) == (502, "upstream_auth_failed")
    assert message not in info.value.body["message"]  # what AWS said is for the admin: the usage log has it
    assert message in server.wait_for_calls(1)[0]["error"]
    assert provider_fake.verified == []
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=NOVA, messages=HI)
    assert info.value.body["code"] == "no_active_credential", "the refused key is taken out of service"


def test_access_denied_to_one_model_keeps_the_key(client: openai.OpenAI) -> None:
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.chat.completions.create(model=f"{NOVA}-access-denied", messages=HI)
    assert info.value.body["code"] == "model_access_denied"
    assert client.chat.completions.create(model=NOVA, messages=HI).choices[0].message.content == "Echo: hi"


def test_region_of_the_provider_record_is_signed_for(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any
) -> None:
    keys = {k: v for k, v in provider_fake.credential.items() if k != "region"}
    server = hub_with(hub_server_factory, provider_fake, keys, region="eu-central-1")
    assert (
        sdk(server).chat.completions.create(model=NOVA, messages=HI).choices[0].message.content == "Echo: hi"
    )
    assert provider_fake.verified[-1]["region"] == "eu-central-1"


def test_region_of_the_credential_wins_over_the_record(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any
) -> None:
    server = hub_with(hub_server_factory, provider_fake, provider_fake.credential, region="ap-south-1")
    sdk(server).chat.completions.create(model=NOVA, messages=HI)
    assert provider_fake.verified[-1]["region"] == "eu-central-1"


def test_without_any_region_us_east_1_is_signed_for(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any
) -> None:
    keys = {k: v for k, v in provider_fake.credential.items() if k != "region"}
    server = hub_with(hub_server_factory, provider_fake, keys)
    with pytest.raises(openai.APIStatusError) as info:
        sdk(server).chat.completions.create(model=NOVA, messages=HI)
    assert info.value.body["code"] == "upstream_auth_failed"
    assert "'us-east-1' is not valid here" in server.wait_for_calls(1)[0]["error"]


def test_env_credentials(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", provider_fake.credential["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", provider_fake.credential["secret_access_key"])
    monkeypatch.setenv("AWS_REGION", provider_fake.region)
    server = hub_server_factory()
    server.add_provider("bedrock", base_url=provider_fake.base_url)
    assert (
        sdk(server).chat.completions.create(model=NOVA, messages=HI).choices[0].message.content == "Echo: hi"
    )


def test_inference_profile_arn_with_slash_is_one_signed_segment(
    client: openai.OpenAI, provider_fake: Any
) -> None:
    profile = "eu.anthropic.claude-3-5-haiku-20241022-v1:0"
    arn = f"arn:aws:bedrock:eu-central-1:123456789012:inference-profile/{profile}"
    reply = client.chat.completions.create(model=f"bedrock/{arn}", messages=HI)
    assert reply.choices[0].message.content == "Echo: hi"
    assert provider_fake.last.path.endswith(
        "inference-profile/eu.anthropic.claude-3-5-haiku-20241022-v1:0/converse"
    )
    assert len(provider_fake.verified) == 1


def test_default_url_names_the_region_and_signs_for_it() -> None:
    provider = bedrock.BedrockProvider()
    values = {"access_key_id": "AKIA0000000000000000", "secret_access_key": "s", "region": "ap-northeast-1"}
    cred = Credential(1, "k", values)
    route = Route(provider, "bedrock", "us.amazon.nova-lite-v1:0", provider.default_base_url, cred)
    req = provider.build_request("chat", {"messages": HI}, route, False)
    assert (
        req.url
        == "https://bedrock-runtime.ap-northeast-1.amazonaws.com/model/us.amazon.nova-lite-v1%3A0/converse"
    )
    provider.apply_credential(req, cred)
    assert "/ap-northeast-1/bedrock/aws4_request" in req.headers["Authorization"]
    assert req.headers["Host"] == "bedrock-runtime.ap-northeast-1.amazonaws.com"
    assert json.loads(req.body or b"") == {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    assert req.headers["X-Amz-Date"][:8] == datetime.now(UTC).strftime("%Y%m%d")


def test_a_concrete_aws_endpoint_signs_for_its_own_region() -> None:
    provider = bedrock.BedrockProvider()
    cred = Credential(1, "k", {"access_key_id": "AKIA0000000000000000", "secret_access_key": "s"})
    route = Route(
        provider, "bedrock", "m", "https://bedrock-runtime.eu-west-3.amazonaws.com", cred, region="us-west-2"
    )
    req = provider.build_request("chat", {"messages": HI}, route, True)
    assert req.url.endswith("/model/m/converse-stream")
    provider.apply_credential(req, cred)
    assert "/eu-west-3/bedrock/aws4_request" in req.headers["Authorization"]


def test_signing_needs_a_key_pair() -> None:
    provider = bedrock.BedrockProvider()
    req = UpstreamRequest("POST", "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse", json={})
    with pytest.raises(HubError) as info:
        provider.apply_credential(req, Credential(1, "k", {"access_key_id": "AKIA0000000000000000"}))
    assert info.value.code == "no_active_credential"


# --- the request translation ----------------------------------------------------------------------------


def test_request_is_translated_to_converse(client: openai.OpenAI, provider_fake: Any) -> None:
    client.chat.completions.create(
        model=CLAUDE,
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
    )
    body = provider_fake.last.json
    assert body["system"] == [{"text": "Be brief"}]
    assert [m["role"] for m in body["messages"]] == ["user"], "consecutive user turns are merged"
    look, image, answer = body["messages"][0]["content"]
    assert (look, answer) == ({"text": "look"}, {"text": "and answer"})
    assert image["image"]["format"] == "png"
    assert image["image"]["source"]["bytes"] == PNG_1PX_DATA_URL.split(",", 1)[1]
    assert body["inferenceConfig"] == {
        "maxTokens": 2000,
        "temperature": 0.5,
        "topP": 0.8,
        "stopSequences": ["END"],
    }
    assert body["toolConfig"]["toolChoice"] == {"any": {}}
    spec = body["toolConfig"]["tools"][0]["toolSpec"]
    assert (spec["name"], spec["inputSchema"]["json"]["required"]) == ("get_weather", ["city"])
    assert "additionalModelRequestFields" not in body


def test_named_tool_choice_and_none(client: openai.OpenAI, provider_fake: Any) -> None:
    choice = {"type": "function", "function": {"name": "get_weather"}}
    client.chat.completions.create(model=NOVA, messages=HI, tools=[WEATHER_TOOL], tool_choice=choice)
    assert provider_fake.last.json["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}
    reply = client.chat.completions.create(model=NOVA, messages=HI, tools=[WEATHER_TOOL], tool_choice="none")
    assert "toolConfig" not in provider_fake.last.json, "Converse cannot forbid tools: none offers none"
    assert reply.choices[0].message.content == "Echo: hi"


def test_tool_history_becomes_tool_blocks(client: openai.OpenAI, provider_fake: Any) -> None:
    reply = client.chat.completions.create(
        model=NOVA,
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
                    },
                    {
                        "id": "t2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Bergen"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": '{"temp": -3}'},
            {"role": "tool", "tool_call_id": "t2", "content": "rain"},
        ],
    )
    messages = provider_fake.last.json["messages"]
    assert messages[1]["content"] == [
        {"text": "Let me look."},
        {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}},
        {"toolUse": {"toolUseId": "t2", "name": "get_weather", "input": {"city": "Bergen"}}},
    ]
    assert messages[2] == {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp": -3}}]}},
            {"toolResult": {"toolUseId": "t2", "content": [{"text": "rain"}]}},
        ],
    }, "both results in one user turn"
    assert reply.choices[0].message.content == "Tool result: rain"


def test_documents_become_document_blocks(client: openai.OpenAI, provider_fake: Any) -> None:
    pdf = "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4 fake").decode()
    part = {"type": "file", "file": {"file_data": pdf, "filename": "Q3 report (final).v2.pdf"}}
    client.chat.completions.create(
        model=NOVA, messages=[{"role": "user", "content": [{"type": "text", "text": "summarise"}, part]}]
    )
    document = provider_fake.last.json["messages"][0]["content"][1]["document"]
    assert (document["format"], document["name"]) == ("pdf", "Q3 report (final) v2")
    assert base64.b64decode(document["source"]["bytes"]) == b"%PDF-1.4 fake"


def test_remote_image_urls_are_refused_before_calling_aws(client: openai.OpenAI, provider_fake: Any) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=NOVA, messages=[{"role": "user", "content": [image]}])
    assert "data: URLs" in info.value.body["message"]
    assert provider_fake.requests == []


def test_cache_control_becomes_cache_points(client: openai.OpenAI, provider_fake: Any) -> None:
    mark = {"type": "ephemeral"}
    tool = {**WEATHER_TOOL, "cache_control": mark}
    client.chat.completions.create(
        model=CLAUDE,
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "Long rules", "cache_control": mark}]},
            {"role": "user", "content": [{"type": "text", "text": "Long context", "cache_control": mark}]},
        ],
        tools=[tool],
    )
    body = provider_fake.last.json
    point = {"cachePoint": {"type": "default"}}
    assert body["system"] == [{"text": "Long rules"}, point]
    assert body["messages"][0]["content"] == [{"text": "Long context"}, point]
    assert body["toolConfig"]["tools"][1] == point


def test_reasoning_effort_turns_on_claude_thinking_with_room_to_answer(
    client: openai.OpenAI, provider_fake: Any
) -> None:
    client.chat.completions.create(model=CLAUDE, messages=HI, reasoning_effort="medium")
    body = provider_fake.last.json
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 4096}}
    assert body["inferenceConfig"] == {"maxTokens": 8192}
    client.chat.completions.create(
        model="bedrock/us.amazon.nova-2-lite-v1:0", messages=HI, reasoning_effort="low"
    )
    nova = provider_fake.last.json["additionalModelRequestFields"]
    assert nova == {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}}


# --- answers ------------------------------------------------------------------------------------------------


def test_reasoning_and_signed_thinking_come_back(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model=f"{CLAUDE}-reasoning", messages=HI)
    message = reply.choices[0].message
    assert message.content == "Echo: hi"
    extra = message.model_extra or {}
    assert extra["reasoning_content"] == "Let me think about it."
    assert extra["thinking_blocks"] == [
        {"type": "thinking", "thinking": "Let me think about it.", "signature": "EqQBCkYIBxgCKkBsigFAKE=="},
        {"type": "redacted_thinking", "data": base64.b64encode(b"encrypted thinking").decode()},
    ]


def test_reasoning_streams_as_reasoning_content_and_thinking_blocks(client: openai.OpenAI) -> None:
    reasoning, blocks, text = "", [], ""
    for chunk in client.chat.completions.create(model=f"{CLAUDE}-reasoning", messages=HI, stream=True):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta.model_extra or {}
        reasoning += delta.get("reasoning_content") or ""
        blocks += delta.get("thinking_blocks") or []
        text += chunk.choices[0].delta.content or ""
    assert (reasoning, text) == ("Let me think about it.", "Echo: hi")
    assert [b["type"] for b in blocks] == ["thinking", "redacted_thinking"]
    assert blocks[0]["signature"] == "EqQBCkYIBxgCKkBsigFAKE=="


def test_signed_thinking_goes_back_with_the_tool_results(client: openai.OpenAI, provider_fake: Any) -> None:
    call = {"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    thinking = [
        {"type": "thinking", "thinking": "I need the weather.", "signature": "sig=="},
        {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
    ]
    client.chat.completions.create(
        model=CLAUDE,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [call], "thinking_blocks": thinking},  # type: ignore[typeddict-unknown-key]
            {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
        ],
    )
    assert provider_fake.last.json["messages"][1]["content"][:2] == [
        {"reasoningContent": {"reasoningText": {"text": "I need the weather.", "signature": "sig=="}}},
        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
    ]


def test_stream_split_into_tiny_reads_is_reassembled(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=f"{NOVA}-split-frames",
            messages=[{"role": "user", "content": "one two three"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: one two three"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_corrupt_frame_mid_stream_is_reported_in_stream(
    client: openai.OpenAI, bedrock_hub: HubServer
) -> None:
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in client.chat.completions.create(
            model=f"{NOVA}-corrupt-crc", messages=[{"role": "user", "content": "one two three"}], stream=True
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert "".join(received) == "Echo: one"
    assert "broken event stream" in str(info.value) and "CRC" in str(info.value)
    row = bedrock_hub.wait_for_calls(1)[0]
    assert (row["status"], row["http_status"]) == ("error", 502)


def test_throttling_exception_inside_the_stream(client: openai.OpenAI, bedrock_hub: HubServer) -> None:
    with pytest.raises(openai.APIError) as info:
        list(client.chat.completions.create(model=f"{NOVA}-throttled-stream", messages=HI, stream=True))
    assert "rate limit" in str(info.value)
    assert bedrock_hub.wait_for_calls(1)[0]["http_status"] == 429


# --- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "status", "code", "text"),
    [
        ("access-denied", 403, "model_access_denied", "don't have access to the model"),
        ("model-timeout", 504, "upstream_timeout", "took too long"),
        ("model-error", 502, "upstream_error", "Invalid model output"),
        ("not-ready", 429, "rate_limited", "not ready"),
        ("unavailable", 502, "upstream_error", "isn't currently available"),
        ("no-such-model", 404, "model_not_found", "could not be found"),
    ],
)
def test_bedrock_errors(client: openai.OpenAI, scenario: str, status: int, code: str, text: str) -> None:
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as info:
            list(client.chat.completions.create(model=f"{NOVA}-{scenario}", messages=HI, stream=stream))
        assert (info.value.status_code, info.value.body["code"]) == (status, code)
        assert text in info.value.body["message"]


def test_validation_exception_tells_the_client_what_aws_said(
    client: openai.OpenAI, provider_fake: Any
) -> None:
    provider_fake.fail_next_aws(400, "ValidationException", "The model returned the following errors: bad")
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=NOVA, messages=HI)
    assert info.value.body["code"] == "upstream_bad_request"
    assert "The model returned the following errors: bad (ValidationException)" in info.value.body["message"]


def test_throttling_then_the_sdk_retry_succeeds(bedrock_hub: HubServer, provider_fake: Any) -> None:
    provider_fake.fail_next(429, "Too many requests, please wait before trying again.")
    reply = sdk(bedrock_hub, retries=2).chat.completions.create(model=NOVA, messages=HI)
    assert reply.choices[0].message.content == "Echo: hi"
    assert len(provider_fake.requests) == 2 and len(provider_fake.verified) == 2, "both attempts signed"
    rows = bedrock_hub.wait_for_calls(2)
    assert [(r["status"], r["http_status"]) for r in rows] == [("error", 429), ("success", 200)]


def test_retry_after_is_relayed_when_aws_sends_one(client: openai.OpenAI, provider_fake: Any) -> None:
    provider_fake.fail_next_aws(429, "ThrottlingException", "slow down", {"Retry-After": "3"})
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=NOVA, messages=HI)
    assert info.value.response.headers.get("retry-after") == "3"


def test_malformed_and_shapeless_answers(client: openai.OpenAI, provider_fake: Any) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=f"{NOVA}-malformed", messages=HI)
    assert (info.value.status_code, info.value.body["code"]) == (502, "upstream_malformed")


def test_map_error_reads_the_error_type_from_body_or_header() -> None:
    provider = bedrock.BedrockProvider()
    body = json.dumps(
        {"__type": "com.amazon.coral.service#ExpiredTokenException", "Message": "expired"}
    ).encode()
    err = provider.map_error(403, body, {})
    assert (err.code, err.status) == ("upstream_auth_failed", 502) and "expired" in err.full_message
    header = {"X-Amzn-ErrorType": "ServiceQuotaExceededException:http://internal.amazon.com/"}
    err = provider.map_error(400, b'{"message": "quota"}', header)
    assert (err.status, err.code) == (429, "rate_limited")
    assert provider.map_error(502, b"<html>bad gateway</html>", {}).code == "upstream_error"


# --- other client dialects ------------------------------------------------------------------------------


def test_anthropic_messages_api_over_bedrock(bedrock_hub: HubServer, provider_fake: Any) -> None:
    anthropic = pytest.importorskip("anthropic")
    client = anthropic.Anthropic(base_url=bedrock_hub.url, api_key=bedrock_hub.create_key(), max_retries=0)
    message = client.messages.create(
        model=f"{CLAUDE}-reasoning",
        max_tokens=2000,
        system=[{"type": "text", "text": "Be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi"}],
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    assert [b.type for b in message.content] == ["thinking", "redacted_thinking", "text"]
    assert message.content[0].signature == "EqQBCkYIBxgCKkBsigFAKE=="
    assert message.content[2].text == "Echo: hi (system: Be brief)"
    body = provider_fake.last.json
    assert body["system"] == [{"text": "Be brief"}, {"cachePoint": {"type": "default"}}]
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    with client.messages.stream(
        model=f"{CLAUDE}-usage-details", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "Echo: hi"
    usage = final.usage
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (
        50,
        40,
        10,
    )
    assert usage.output_tokens == 50


def test_fake_refuses_what_bedrock_refuses(fake_module: ModuleType) -> None:
    """The fake's request checks are what makes the translation tests mean something."""
    fake = fake_module.FakeBedrock()
    ok = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    assert fake.check(ok) is None
    bad = [
        {"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]},
        {"messages": [{"role": "user", "content": [{"text": " "}]}]},
        {"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]},
        {**ok, "inferenceConfig": {"max_tokens": 5}},
        {**ok, "toolConfig": {"tools": [{"toolSpec": {"name": "bad name", "inputSchema": {"json": {}}}}]}},
        {**ok, "response_format": {"type": "json_object"}},
    ]
    assert all(fake.check(body) for body in bad)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_aigne_chat_api_over_bedrock(bedrock_hub: HubServer, stream: bool) -> None:
    """AIGNE's ``/api/v2/chat`` (the envelope the @aigne/aigne-hub SDK sends), answered by Bedrock."""
    body = {
        "input": {
            "messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "hi"}],
            "modelOptions": {"model": NOVA},
        },
        "agent": "$CHAT_MODEL",
        "options": {"streaming": stream},
    }
    headers = {"Authorization": f"Bearer {bedrock_hub.create_key()}", "Content-Type": "application/json"}
    url = f"{bedrock_hub.url}/api/v2/chat"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read().decode()
    if not stream:
        answer = json.loads(raw)
        assert answer["text"] == "Echo: hi (system: Be brief)"
        assert answer["usage"]["outputTokens"] > 0
        return
    text = ""
    for line in raw.splitlines():
        if line.startswith("data:"):
            delta = json.loads(line[5:]).get("delta") or {}
            text += (delta.get("text") or {}).get("text", "")
    assert text == "Echo: hi (system: Be brief)"
