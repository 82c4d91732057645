"""The Anthropic provider end to end: the official openai SDK → the hub's /v1/chat/completions → the plugin →
the fake Anthropic Messages API on a real socket, and back."""

from __future__ import annotations

import base64
import json

import hub_provider_anthropic as plugin
import openai
import pytest

from hub_core import HubError, Route
from hub_core.testing import openai_client

PNG = base64.b64encode(
    base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
).decode()
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
MODEL = "anthropic/claude-haiku-4-5"


def sent(fake):
    """The body of the last request the fake received."""
    return fake.requests[-1]["body"]


# --- chat ------------------------------------------------------------------------------------------------


def test_chat_roundtrip_translates_both_ways(client, fake_anthropic, anthropic_hub):
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
            {"role": "user", "content": "hello there"},
        ],
    )
    assert reply.choices[0].message.content == "Echo: hello there (system: Be brief.)"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.object == "chat.completion"
    request = fake_anthropic.requests[-1]
    assert request["path"] == "/v1/messages"
    assert request["headers"]["x-api-key"] == fake_anthropic.api_key
    assert request["headers"]["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in request["headers"]
    body = request["body"]
    assert body["model"] == "claude-haiku-4-5"
    assert body["max_tokens"] == plugin.DEFAULT_MAX_TOKENS
    assert body["system"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": "Answer in English."},
    ]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}]
    row = anthropic_hub.wait_for_calls(1)[0]
    assert (row["status"], row["provider"], row["upstream_model"]) == (
        "success",
        "anthropic",
        "claude-haiku-4-5",
    )
    assert row["input_tokens"] == reply.usage.prompt_tokens > 0
    assert row["output_tokens"] == reply.usage.completion_tokens == 6


def test_sampling_parameters_are_mapped(client, fake_anthropic):
    client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "one two three"}],
        temperature=1.6,
        top_p=0.5,
        stop="three",
        max_completion_tokens=50,
        user="user-7",
    )
    body = sent(fake_anthropic)
    assert body["temperature"] == 1.0  # OpenAI's 0..2 clamped to Anthropic's 0..1
    assert body["top_p"] == 0.5
    assert body["stop_sequences"] == ["three"]
    assert body["max_tokens"] == 50
    assert body["metadata"] == {"user_id": "user-7"}


def test_stop_sequence_and_length_finish_reasons(client):
    stopped = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "one two three"}], stop=["two"]
    )
    assert stopped.choices[0].message.content == "Echo: one "
    assert stopped.choices[0].finish_reason == "stop"
    cut = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "one two three four"}], max_tokens=2
    )
    assert cut.choices[0].finish_reason == "length"
    assert cut.choices[0].message.content == "Echo: one"


def test_streaming_text_and_usage(client, anthropic_hub):
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream me please"
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    row = anthropic_hub.wait_for_calls(1)[0]
    assert row["stream"] and row["status"] == "success"
    assert (row["input_tokens"], row["output_tokens"]) == (chunks[-1].usage.prompt_tokens, 4)


def test_streaming_without_include_usage_sends_no_usage_chunk(client):
    chunks = list(
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


# --- tools -----------------------------------------------------------------------------------------------


def test_tool_call_and_tool_result_roundtrip(client, fake_anthropic):
    messages = [{"role": "user", "content": "weather in Paris?"}]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check."
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert sent(fake_anthropic)["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],
        }
    ]
    messages += [
        choice.message.model_dump(exclude_none=True, exclude={"refusal", "annotations"}),
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"},
        {"role": "user", "content": "thanks"},
    ]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "Tool result: 18 degrees and sunny"
    history = sent(fake_anthropic)["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert history[1]["content"][-1] == {
        "type": "tool_use",
        "id": call.id,
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    # the tool result and the next user text share one user turn, the result first
    assert history[2]["content"] == [
        {"type": "tool_result", "tool_use_id": call.id, "content": "18 degrees and sunny"},
        {"type": "text", "text": "thanks"},
    ]


def test_tool_choice_variants(client, fake_anthropic):
    client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "x"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
    )
    assert sent(fake_anthropic)["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    forced = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "x"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert sent(fake_anthropic)["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert forced.choices[0].message.content is None  # forced tool use comes without text
    none = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert none.choices[0].message.tool_calls is None and none.choices[0].finish_reason == "stop"


def test_streaming_tool_call(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER_TOOL], stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    text, finish = "", None
    for chunk in stream:
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for tc in delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += tc.id or ""
            entry["name"] += (tc.function.name or "") if tc.function else ""
            entry["arguments"] += (tc.function.arguments or "") if tc.function else ""
        finish = chunk.choices[0].finish_reason or finish
    assert text == "Let me check."
    assert list(calls) == [0]
    assert calls[0]["id"].startswith("toolu_") and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
    assert finish == "tool_calls"


# --- images and documents ----------------------------------------------------------------------------------


def test_image_input_as_base64_and_url(client, fake_anthropic):
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"},
                    },
                ],
            }
        ],
    )
    assert reply.choices[0].message.content == "Echo: what is this [image:image/png] [image:image/url]"
    content = sent(fake_anthropic)["messages"][0]["content"]
    assert content[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
    }
    assert content[2] == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}


def test_pdf_file_becomes_a_document(client, fake_anthropic):
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "summarize"},
                    {
                        "type": "file",
                        "file": {"file_data": f"data:application/pdf;base64,{pdf}", "filename": "a.pdf"},
                    },
                ],
            }
        ],
    )
    assert reply.choices[0].message.content == "Echo: summarize [document:application/pdf]"
    document = sent(fake_anthropic)["messages"][0]["content"][1]
    assert document == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
        "title": "a.pdf",
    }


def test_unsupported_content_is_a_400_before_any_upstream_call(client, fake_anthropic):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=MODEL,
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}}],
                }
            ],
        )
    assert "input_audio" in err.value.message
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], n=2)
    assert fake_anthropic.requests == []


# --- usage: prompt caching and thinking ------------------------------------------------------------------


def test_prompt_cache_write_then_read(client, fake_anthropic, anthropic_hub):
    long_system = " ".join(f"rule{i}" for i in range(300))
    messages = [
        {
            "role": "system",
            "content": [{"type": "text", "text": long_system, "cache_control": {"type": "ephemeral"}}],
        },
        {"role": "user", "content": "question"},
    ]
    first = client.chat.completions.create(model=MODEL, messages=messages)
    assert sent(fake_anthropic)["system"][0]["cache_control"] == {"type": "ephemeral"}
    second = client.chat.completions.create(model=MODEL, messages=messages)
    written = first.usage.prompt_tokens_details.model_dump()["cache_write_tokens"]
    assert written >= 300 and first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details.cached_tokens == written
    # prompt_tokens counts the whole prompt, cached parts included, on both calls
    assert first.usage.prompt_tokens == second.usage.prompt_tokens > written
    rows = anthropic_hub.wait_for_calls(2)
    assert (rows[0]["cache_write_tokens"], rows[0]["cached_tokens"]) == (written, 0)
    assert (rows[1]["cache_write_tokens"], rows[1]["cached_tokens"]) == (0, written)
    assert rows[1]["input_tokens"] == second.usage.prompt_tokens


def test_streaming_usage_includes_cache_reads(client, anthropic_hub):
    messages = [
        {
            "role": "system",
            "content": [{"type": "text", "text": "cached rules", "cache_control": {"type": "ephemeral"}}],
        },
        {"role": "user", "content": "q"},
    ]
    client.chat.completions.create(model=MODEL, messages=messages)
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    usage = chunks[-1].usage
    assert usage.prompt_tokens_details.cached_tokens > 0
    row = anthropic_hub.wait_for_calls(2)[1]
    assert row["cached_tokens"] == usage.prompt_tokens_details.cached_tokens
    assert row["input_tokens"] == usage.prompt_tokens


def test_reasoning_effort_enables_thinking(client, fake_anthropic, anthropic_hub):
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "think"}], reasoning_effort="low", temperature=0.2
    )
    body = sent(fake_anthropic)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["max_tokens"] == 1024 + plugin.DEFAULT_MAX_TOKENS
    assert "temperature" not in body  # Anthropic refuses temperature changes with thinking on
    message = reply.choices[0].message
    assert message.content == "Echo: think"
    assert message.model_extra["reasoning_content"].startswith("The user wrote")
    blocks = message.model_extra["thinking_blocks"]
    assert blocks[0]["type"] == "thinking" and blocks[0]["signature"].startswith("sig_")
    reasoning = reply.usage.completion_tokens_details.reasoning_tokens
    assert 0 < reasoning < reply.usage.completion_tokens
    assert anthropic_hub.wait_for_calls(1)[0]["reasoning_tokens"] == reasoning


def test_thinking_blocks_go_back_with_tool_results(client, fake_anthropic):
    """With thinking on, Anthropic needs the signed thinking block back next to the tool call."""
    messages = [{"role": "user", "content": "weather?"}]
    first = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], reasoning_effort="low"
    )
    message = first.choices[0].message.model_dump(exclude_none=True, exclude={"refusal", "annotations"})
    call_id = message["tool_calls"][0]["id"]
    messages += [message, {"role": "tool", "tool_call_id": call_id, "content": "sunny"}]
    client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], reasoning_effort="low"
    )
    assistant = sent(fake_anthropic)["messages"][1]["content"]
    assert [b["type"] for b in assistant] == ["thinking", "text", "tool_use"]
    assert (
        assistant[0]["signature"] == first.choices[0].message.model_extra["thinking_blocks"][0]["signature"]
    )


def test_streaming_thinking(client):
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "think"}],
            stream=True,
            reasoning_effort="medium",
            stream_options={"include_usage": True},
        )
    )
    extras = [c.choices[0].delta.model_extra for c in chunks if c.choices]
    reasoning = "".join(e.get("reasoning_content") or "" for e in extras)
    signatures = [b["signature"] for e in extras for b in e.get("thinking_blocks") or []]
    assert reasoning.startswith("The user wrote 'think'")
    assert len(signatures) == 1 and signatures[0].startswith("sig_")
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: think"
    assert chunks[-1].usage.completion_tokens_details.reasoning_tokens > 0


# --- structured output -------------------------------------------------------------------------------------


ANSWER_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
    },
}


def test_json_schema_answer_through_a_forced_tool(client, fake_anthropic):
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], response_format=ANSWER_FORMAT
    )
    assert json.loads(reply.choices[0].message.content) == {"answer": "Echo: hi"}
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.tool_calls is None
    body = sent(fake_anthropic)
    assert body["tool_choice"] == {"type": "tool", "name": plugin.JSON_TOOL}
    assert body["tools"][0]["input_schema"] == ANSWER_FORMAT["json_schema"]["schema"]


def test_json_schema_answer_streams_as_text(client):
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            response_format=ANSWER_FORMAT,
            stream=True,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert json.loads(text) == {"answer": "Echo: hi"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["stop"]
    assert not any(c.choices[0].delta.tool_calls for c in chunks)


def test_json_object_and_schema_with_tools_become_instructions(client, fake_anthropic):
    client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], response_format={"type": "json_object"}
    )
    assert "JSON object" in sent(fake_anthropic)["system"][-1]["text"]
    client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        response_format=ANSWER_FORMAT,
        tools=[WEATHER_TOOL],
    )
    body = sent(fake_anthropic)
    assert [t["name"] for t in body["tools"]] == ["get_weather"]
    assert '"answer"' in body["system"][-1]["text"]


def test_reserved_tool_name_is_refused(client):
    tool = {"type": "function", "function": {"name": plugin.JSON_TOOL, "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], tools=[tool])


# --- errors ------------------------------------------------------------------------------------------------


def test_upstream_401_is_a_502_naming_the_provider(client, anthropic_hub):
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(
            model="anthropic/fail-401", messages=[{"role": "user", "content": "x"}]
        )
    assert err.value.status_code == 502
    assert err.value.code == "upstream_auth_failed"
    assert "Anthropic" in err.value.message
    assert "invalid x-api-key" not in err.value.message  # what Anthropic said is for the admin
    row = anthropic_hub.wait_for_calls(1)[0]
    assert (row["status"], row["http_status"]) == ("error", 502)
    assert "invalid x-api-key" in row["error"]


def test_upstream_429_keeps_retry_after(client):
    with pytest.raises(openai.RateLimitError) as err:
        client.chat.completions.create(
            model="anthropic/fail-429", messages=[{"role": "user", "content": "x"}]
        )
    assert err.value.status_code == 429
    assert err.value.response.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("fail-500", 502, "upstream_error"),
        ("fail-529", 503, "upstream_overloaded"),
        ("malformed", 502, "upstream_malformed"),
        ("missing-model", 404, "model_not_found"),
        ("fail-403", 502, "upstream_auth_failed"),
    ],
)
def test_upstream_failures_map_to_hub_errors(client, model, status, code):
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(
            model=f"anthropic/{model}", messages=[{"role": "user", "content": "x"}]
        )
    assert (err.value.status_code, err.value.code) == (status, code)


def test_one_shot_overload_then_success(client, fake_anthropic):
    fake_anthropic.fail_next(529, "Overloaded", "overloaded_error", headers={"retry-after": "2"})
    with pytest.raises(openai.InternalServerError) as err:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 503
    assert err.value.response.headers["retry-after"] == "2"
    ok = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert ok.choices[0].message.content == "Echo: x"


@pytest.mark.parametrize("model", ["stream-error", "stream-cut"])
def test_errors_after_the_first_byte_arrive_in_the_stream(client, anthropic_hub, model):
    stream = client.chat.completions.create(
        model=f"anthropic/{model}", messages=[{"role": "user", "content": "a b c"}], stream=True
    )
    seen = []
    with pytest.raises(openai.APIError) as err:
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    assert "".join(seen) == "Echo: a"  # what came before the failure was delivered
    assert ("overloaded" if model == "stream-error" else "message_stop") in str(err.value.message)
    row = anthropic_hub.wait_for_calls(1)[0]
    assert row["status"] == "error" and row["stream"]


def test_upstream_errors_before_streaming_are_http_errors(client):
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model="anthropic/fail-429", messages=[{"role": "user", "content": "x"}], stream=True
        )


# --- configuration ---------------------------------------------------------------------------------------


def test_models_come_from_the_upstream_list(client):
    ids = {m.id for m in client.models.list()}
    assert {"anthropic/claude-haiku-4-5", "anthropic/claude-sonnet-4-5"} <= ids


def test_env_credentials_and_base_url(hub_server_factory, fake_anthropic, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake_anthropic.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{fake_anthropic.port}")  # the SDK's form
    server = hub_server_factory()
    client = openai_client(server)
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "env"}])
    assert reply.choices[0].message.content == "Echo: env"
    assert fake_anthropic.requests[-1]["path"] == "/v1/messages"


def test_provider_declares_what_the_admin_ui_needs():
    info = plugin.AnthropicProvider().describe()
    assert info["defaultBaseUrl"] == "https://api.anthropic.com/v1"
    assert info["envCredentials"] == {"api_key": "ANTHROPIC_API_KEY"}
    assert info["envBaseUrl"] == "ANTHROPIC_BASE_URL"
    assert info["testModel"] == "claude-haiku-4-5"
    assert "chat" in info["capabilities"]
    assert info["credentialSchema"]["required"] == ["api_key"]


# --- the stream normalizer on its own ----------------------------------------------------------------------


def _events(*pairs):
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in pairs)


def test_stream_normalizer_handles_any_piece_boundaries():
    raw = _events(
        (
            "message_start",
            {
                "type": "message_start",
                "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 5, "output_tokens": 1}},
            },
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "héllo"}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
        ),
        ("message_stop", {"type": "message_stop"}),
    )
    norm = plugin.AnthropicStreamNormalizer()
    chunks = []
    for i in range(len(raw)):  # one byte at a time
        chunks += norm.feed(raw[i : i + 1])
    chunks += norm.finish()
    text = "".join(c.data["choices"][0]["delta"].get("content", "") for c in chunks if c.data["choices"])
    assert text == "héllo"
    assert chunks[-1].usage_only and chunks[-1].data["usage"]["prompt_tokens"] == 5
    assert (norm.usage.input_tokens, norm.usage.output_tokens, norm.saw_usage) == (5, 2, True)


def test_stream_normalizer_delivers_chunks_before_an_error_in_the_same_piece():
    raw = _events(
        (
            "message_start",
            {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 5}}},
        ),
        ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    )
    norm = plugin.AnthropicStreamNormalizer()
    assert len(norm.feed(raw)) == 1
    assert isinstance(norm.pending_error, HubError) and norm.pending_error.status == 503


def test_base_url_without_version_gets_v1():
    provider = plugin.AnthropicProvider()

    def url(base):
        return provider.url(Route(provider, "anthropic", "m", base, None), "/messages")

    assert url("https://api.anthropic.com") == "https://api.anthropic.com/v1/messages"
    assert url("https://api.anthropic.com/v1/") == "https://api.anthropic.com/v1/messages"
    assert url("https://proxy.example/anthropic/v1") == "https://proxy.example/anthropic/v1/messages"
