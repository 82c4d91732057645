"""The Anthropic-compatible API (``/v1/messages``) end to end with the official ``anthropic`` SDK as the
client, with the fake OpenAI upstream behind it and with the fake Anthropic upstream (shipped with the
Anthropic provider plugin) behind it."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
pytest.importorskip("hub_provider_anthropic", reason="the Anthropic provider plugin is not installed")

FAKE_PATH = Path(__file__).resolve().parents[1] / "plugins/provider-anthropic/tests/fake_anthropic.py"
OPENAI_MODEL = "openai/gpt-4o-mini"
ANTHROPIC_MODEL = "anthropic/claude-haiku-4-5"
BOTH = pytest.mark.parametrize("model", [OPENAI_MODEL, ANTHROPIC_MODEL])
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def _fake_module() -> Any:
    name = "hub_provider_anthropic_fake"  # the name the plugin's own conftest uses: one module either way
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FAKE_PATH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def fake_anthropic() -> Iterator[Any]:
    with _fake_module().fake_in_thread() as fake:
        yield fake


@pytest.fixture
def both(hub, fake_anthropic):
    """The hub with ``openai`` (fake OpenAI) and ``anthropic`` (fake Anthropic) configured."""
    hub.add_provider("anthropic", base_url=fake_anthropic.base_url, credential=fake_anthropic.api_key)
    return hub


@pytest.fixture
def client(both):
    return anthropic.Anthropic(base_url=both.url, api_key=both.create_key(), max_retries=0)


def post(url: str, headers: dict[str, str], body: Any) -> tuple[int, Message, bytes]:
    """A raw POST (status, headers, body), for what the SDK hides: framing and exact error bodies."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def upstream_body(model: str, fake_openai: Any, fake_anthropic: Any) -> dict[str, Any]:
    fake = fake_openai if model.startswith("openai/") else fake_anthropic
    return fake.requests[-1]["body"]


# --- messages ----------------------------------------------------------------------------------------------


@BOTH
def test_message_roundtrip(client, both, model, fake_openai_thread, fake_anthropic):
    message = client.messages.create(
        model=model,
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": "hello there"}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.model == model
    assert message.id.startswith("msg_")
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text.startswith("Echo: hello there")  # the Anthropic fake adds the system
    assert message.stop_reason == "end_turn"
    row = both.wait_for_calls(1)[0]
    assert (row["endpoint"], row["status"], row["provider"]) == (
        "/v1/messages",
        "success",
        model.split("/")[0],
    )
    assert message.usage.input_tokens == row["input_tokens"] > 0
    assert message.usage.output_tokens == row["output_tokens"] > 0
    sent = upstream_body(model, fake_openai_thread, fake_anthropic)
    if model == OPENAI_MODEL:
        assert sent["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there"},
        ]
        assert sent["max_completion_tokens"] == 100
    else:
        assert sent["system"] == [{"type": "text", "text": "Be brief."}]
        assert sent["max_tokens"] == 100


@BOTH
def test_streaming_with_the_sdk_helper(client, both, model):
    with client.messages.stream(
        model=model, max_tokens=100, messages=[{"role": "user", "content": "stream this"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Echo: stream this"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    row = both.wait_for_calls(1)[0]
    assert row["stream"] and row["status"] == "success"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (
        row["input_tokens"],
        row["output_tokens"],
    )
    assert final.usage.output_tokens > 0


@BOTH
def test_stream_framing_is_anthropics(both, model):
    """Named events in Anthropic's order, each ``data`` carrying the same ``type`` as its ``event``."""
    status, headers, raw_bytes = post(
        f"{both.url}/v1/messages",
        {"x-api-key": both.create_key(), "anthropic-version": "2023-06-01"},
        {"model": model, "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "a b"}]},
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    raw = raw_bytes.decode()
    events = [block.split("\n") for block in raw.strip().split("\n\n")]
    names = [lines[0].removeprefix("event: ") for lines in events]
    for lines, name in zip(events, names, strict=True):
        assert lines[1].startswith("data: ") and json.loads(lines[1][6:])["type"] == name
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    if model == ANTHROPIC_MODEL:  # Anthropic reports the prompt up front and the hub passes it on
        assert json.loads(events[0][1][6:])["message"]["usage"]["input_tokens"] > 0
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    delta = json.loads(events[-2][1][6:])
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] > 0


# --- tools -------------------------------------------------------------------------------------------------


@BOTH
def test_tool_use_and_tool_result(client, model, fake_openai_thread, fake_anthropic):
    first = client.messages.create(
        model=model, max_tokens=200, tools=[WEATHER], messages=[{"role": "user", "content": "weather?"}]
    )
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "Paris"}
    history = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C"}]},
    ]
    second = client.messages.create(
        model=model, max_tokens=200, tools=[WEATHER], tool_choice={"type": "none"}, messages=history
    )
    assert second.stop_reason == "end_turn"
    sent = upstream_body(model, fake_openai_thread, fake_anthropic)
    if model == OPENAI_MODEL:
        assert sent["messages"][-1] == {"role": "tool", "tool_call_id": call.id, "content": "18C"}
        assert sent["messages"][-2]["tool_calls"][0]["function"] == {
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        }
        assert sent["tool_choice"] == "none"
    else:
        assert second.content[0].text == "Tool result: 18C"
        assert sent["messages"][-1]["content"] == [
            {"type": "tool_result", "tool_use_id": call.id, "content": "18C"}
        ]


@BOTH
def test_streamed_tool_use(client, model):
    with client.messages.stream(
        model=model,
        max_tokens=200,
        tools=[WEATHER],
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "weather?"}],
    ) as stream:
        final = stream.get_final_message()
    calls = [b for b in final.content if b.type == "tool_use"]
    assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"


def test_tool_choice_and_parallel_flags_reach_openai(client, fake_openai_thread):
    client.messages.create(
        model=OPENAI_MODEL,
        max_tokens=50,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": "x"}],
    )
    sent = fake_openai_thread.requests[-1]["body"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False
    assert sent["tools"][0] == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": WEATHER["input_schema"],
            "description": "Weather for a city",
        },
    }


# --- images ------------------------------------------------------------------------------------------------


@BOTH
def test_image_input(client, model, fake_openai_thread, fake_anthropic):
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    client.messages.create(
        model=model,
        max_tokens=50,
        messages=[{"role": "user", "content": [image, {"type": "text", "text": "what is it"}]}],
    )
    sent = upstream_body(model, fake_openai_thread, fake_anthropic)
    if model == OPENAI_MODEL:
        assert sent["messages"][0]["content"][0] == {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{PNG}"},
        }
    else:
        assert sent["messages"][0]["content"][0] == image  # the same block after two translations
    assert base64.b64decode(PNG)  # the sample is real base64


# --- usage: caching and thinking through the Anthropic provider --------------------------------------------


def test_prompt_caching_passes_through_to_anthropic(client, fake_anthropic, both):
    system = [{"type": "text", "text": "long rules " * 200, "cache_control": {"type": "ephemeral"}}]
    messages = [{"role": "user", "content": "question"}]
    first = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=50, system=system, messages=messages)
    assert fake_anthropic.requests[-1]["body"]["system"] == system
    with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=50, system=system, messages=messages) as s:
        second = s.get_final_message()
    written = first.usage.cache_creation_input_tokens
    assert written >= 400 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == written and second.usage.cache_creation_input_tokens == 0
    assert first.usage.input_tokens == second.usage.input_tokens  # the uncached rest, the same both times
    rows = both.wait_for_calls(2)
    assert (rows[0]["cache_write_tokens"], rows[1]["cached_tokens"]) == (written, written)
    assert rows[1]["input_tokens"] == second.usage.input_tokens + written  # the log counts the whole prompt


def test_cache_control_is_not_sent_to_openai(client, fake_openai_thread):
    system = [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}]
    client.messages.create(
        model=OPENAI_MODEL,
        max_tokens=50,
        system=system,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "q"}],
    )
    sent = fake_openai_thread.requests[-1]["body"]
    assert sent["messages"][0] == {"role": "system", "content": [{"type": "text", "text": "rules"}]}
    assert "thinking" not in sent and "reasoning_effort" not in sent


def test_thinking_through_anthropic(client, fake_anthropic):
    thinking = {"type": "enabled", "budget_tokens": 1024}
    message = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=2048,
        thinking=thinking,
        tools=[WEATHER],
        messages=[{"role": "user", "content": "weather?"}],
    )
    assert fake_anthropic.requests[-1]["body"]["thinking"] == thinking
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    signature = message.content[0].signature
    assert signature.startswith("sig_")
    # the signed thinking block goes back unchanged with the tool result, as Anthropic requires
    history = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": message.content[2].id, "content": "sun"}],
        },
    ]
    with client.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=2048, thinking=thinking, tools=[WEATHER], messages=history
    ) as stream:
        final = stream.get_final_message()
    assert fake_anthropic.requests[-1]["body"]["messages"][1]["content"][0]["signature"] == signature
    assert final.content[0].type == "thinking" and final.content[0].signature.startswith("sig_")
    assert final.content[1].text == "Tool result: sun"
    assert final.usage.model_dump().get("output_tokens_details", {}).get("thinking_tokens", 0) > 0


def test_tool_error_and_images_in_results_reach_anthropic(client, fake_anthropic):
    first = client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=100, tools=[WEATHER], messages=[{"role": "user", "content": "w?"}]
    )
    call = first.content[-1]
    result = {
        "type": "tool_result",
        "tool_use_id": call.id,
        "is_error": True,
        "content": [
            {"type": "text", "text": "camera failed"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ],
    }
    client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=100,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "w?"},
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
            {"role": "user", "content": [result]},
        ],
    )
    assert fake_anthropic.requests[-1]["body"]["messages"][-1]["content"] == [result]


# --- count_tokens ------------------------------------------------------------------------------------------


def test_count_tokens_asks_anthropic(client, fake_anthropic):
    raw = client.messages.with_raw_response.count_tokens(
        model=ANTHROPIC_MODEL,
        system="rules",
        messages=[{"role": "user", "content": "count these words please"}],
    )
    counted = raw.parse()
    assert fake_anthropic.requests[-1]["path"] == "/v1/messages/count_tokens"
    assert (
        counted.input_tokens
        == _fake_module().FakeAnthropic()._input_usage(fake_anthropic.requests[-1]["body"])["input_tokens"]
    )
    assert "x-aigne-hub-token-estimate" not in raw.headers


def test_count_tokens_estimates_for_other_providers(client, fake_openai_thread):
    raw = client.messages.with_raw_response.count_tokens(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": "word " * 400}]
    )
    assert raw.headers["x-aigne-hub-token-estimate"] == "true"
    assert 300 < raw.parse().input_tokens < 1000
    assert fake_openai_thread.requests == []


def test_count_tokens_for_an_unknown_model_is_404(client):
    with pytest.raises(anthropic.NotFoundError) as err:
        client.messages.count_tokens(model="nope/model", messages=[{"role": "user", "content": "x"}])
    assert err.value.body["error"]["type"] == "not_found_error"


# --- errors in Anthropic's shape ---------------------------------------------------------------------------


def test_bad_key_is_an_authentication_error(both):
    client = anthropic.Anthropic(base_url=both.url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as err:
        client.messages.create(model=OPENAI_MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 401
    assert err.value.body["type"] == "error"
    assert err.value.body["error"]["type"] == "authentication_error"
    assert err.value.request_id  # from the request-id header, as on Anthropic


def test_bearer_auth_token_works(both):
    client = anthropic.Anthropic(base_url=both.url, auth_token=both.create_key(), max_retries=0)
    message = client.messages.create(
        model=OPENAI_MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].text == "Echo: hi"


def test_invalid_requests_answer_like_anthropic(both):
    key = both.create_key()
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    status, resp_headers, raw = post(
        f"{both.url}/v1/messages",
        headers,
        {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "x"}]},
    )
    body = json.loads(raw)
    assert status == 400
    assert body["type"] == "error"
    assert body["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}
    assert body["request_id"] == resp_headers["request-id"]
    server_tool = {
        "model": OPENAI_MODEL,
        "max_tokens": 10,
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
        "messages": [{"role": "user", "content": "x"}],
    }
    status, _, raw = post(f"{both.url}/v1/messages", headers, server_tool)
    assert status == 400 and "custom tools" in json.loads(raw)["error"]["message"]
    status, _, raw = post(f"{both.url}/v1/messages", headers, b"{nope")
    assert status == 400 and json.loads(raw)["error"]["type"] == "invalid_request_error"


def test_unknown_model_is_not_found(client):
    with pytest.raises(anthropic.NotFoundError) as err:
        client.messages.create(model="nope/model", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert err.value.body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    ("model", "error", "status", "etype"),
    [
        ("openai/fail-429", "RateLimitError", 429, "rate_limit_error"),
        ("anthropic/fail-429", "RateLimitError", 429, "rate_limit_error"),
        ("openai/fail-500", "InternalServerError", 502, "api_error"),
        ("anthropic/fail-529", "InternalServerError", 503, "overloaded_error"),
        ("anthropic/fail-401", "InternalServerError", 502, "api_error"),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_upstream_errors_in_anthropic_shape(client, model, error, status, etype, stream):
    """Upstream failures before the first byte are HTTP errors in Anthropic's shape, streaming or not."""
    with pytest.raises(getattr(anthropic, error)) as err:
        client.messages.create(
            model=model, max_tokens=10, messages=[{"role": "user", "content": "x"}], stream=stream
        )
    assert err.value.status_code == status
    assert err.value.body["error"]["type"] == etype
    if status == 429:
        assert err.value.response.headers["retry-after"] == "7"


@BOTH
def test_error_after_the_first_byte_is_an_error_event(client, both, model):
    provider = model.split("/")[0]
    stream = client.messages.stream(
        model=f"{provider}/stream-error", max_tokens=50, messages=[{"role": "user", "content": "a b c d"}]
    )
    with pytest.raises(anthropic.APIStatusError) as err, stream as events:
        for _ in events.text_stream:
            pass
    assert err.value.body["type"] == "error"
    assert err.value.body["error"]["type"] == ("overloaded_error" if provider == "anthropic" else "api_error")
    row = both.wait_for_calls(1)[0]
    assert row["status"] == "error" and row["stream"]


def test_extensions_follow_the_provider_that_will_serve(both):
    from hub_core.web.api.anthropic_v1 import extensions_for
    from hub_core.web.dialects.anthropic import EXTENSIONS

    hub = both.hub
    assert extensions_for(hub, ANTHROPIC_MODEL) == EXTENSIONS
    assert extensions_for(hub, OPENAI_MODEL) == frozenset()
    assert extensions_for(hub, "claude-haiku-4-5") == frozenset()  # a bare name may go to OpenAI too
