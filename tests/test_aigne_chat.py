"""The AIGNE chat protocol on the wire: ``POST /api/v2/chat`` (agent-invocation envelope, JSON and SSE) and
the older ``/api/v2/chat/completions`` format, against a running hub and the fake OpenAI upstream."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
ANSWER_SCHEMA = {
    "type": "json_schema",
    "jsonSchema": {
        "name": "answer",
        "schema": {"type": "object", "properties": {"answer": {"type": "string"}}},
    },
}


def envelope(
    messages: list[dict[str, Any]], model: str = "openai/gpt-4o-mini", stream: bool = False, **inp: Any
):
    """The body the SDK sends (captured from @aigne/aigne-hub 0.10.16), cacheConfig included."""
    options: dict[str, Any] = {"userContext": {}, "memories": []}
    if stream:
        options["streaming"] = True
    model_options = {"cacheConfig": {"autoBreakpoints": {"lastMessage": True}}, "model": model}
    model_options.update(inp.pop("modelOptions", {}))
    return {
        "input": {"messages": messages, "modelOptions": model_options, "outputFileType": "url", **inp},
        "agent": "$CHAT_MODEL",
        "options": options,
    }


async def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        async with session.post(
            url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
        ) as r:
            return r.status, r.headers.get("Content-Type", ""), await r.text()


def sse_events(text: str) -> list[tuple[str | None, str]]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        events.append((name, "\n".join(data)))
    return events


def merged(events: list[tuple[str | None, str]]) -> dict[str, Any]:
    """What the AIGNE client makes of a stream: text deltas appended, JSON deltas merged shallowly."""
    out: dict[str, Any] = {}
    for _name, data in events:
        delta = json.loads(data)["delta"]
        for key, text in (delta.get("text") or {}).items():
            out[key] = out.get(key, "") + text
        out.update(delta.get("json") or {})
    return out


@pytest.fixture
def auth(hub) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {hub.create_key()}",
        "x-aigne-hub-client-did": "%40aigne%2Faigne-hub%3Abox",
    }


async def test_chat_answers_the_chatmodel_output_and_translates_the_envelope(hub, auth, fake_openai_thread):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "agent", "content": "Four."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "and this picture?"},
                {"type": "file", "data": PNG_B64, "mimeType": "image/png"},
                {"type": "url", "url": "https://example.com/cat.jpg"},
            ],
        },
    ]
    body = envelope(messages, modelOptions={"temperature": 0.2, "topP": 0.9, "unknownKnob": {"x": 1}})
    status, ctype, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert status == 200 and ctype.startswith("application/json")
    out = json.loads(text)
    assert out["text"] == "Echo: and this picture?"
    assert out["model"] == "gpt-4o-mini" and out["modelWithProvider"] == "openai/gpt-4o-mini"
    assert isinstance(out["usage"]["inputTokens"], int) and out["usage"]["outputTokens"] == 4
    sent = fake_openai_thread.requests[-1]["body"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    parts = sent["messages"][3]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}
    assert parts[2] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == 0.2 and sent["top_p"] == 0.9
    assert "cacheConfig" not in json.dumps(sent) and "unknownKnob" not in json.dumps(sent)
    row = hub.wait_for_calls(1)[0]
    assert (row["endpoint"], row["status"], row["app_did"]) == (
        "/api/v2/chat",
        "success",
        "@aigne/aigne-hub:box",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (out["usage"]["inputTokens"], 4)


async def test_default_model_and_body_model(hub, auth, fake_openai_thread):
    body = envelope([{"role": "user", "content": "hi"}])
    del body["input"]["modelOptions"]["model"]
    status, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert status == 200 and json.loads(text)["modelWithProvider"] == "openai/gpt-5-mini"
    body["model"] = "openai/gpt-4o"
    status, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert json.loads(text)["modelWithProvider"] == "openai/gpt-4o"


async def test_streaming_is_data_only_sse_without_done(hub, auth):
    body = envelope([{"role": "user", "content": "one two three"}], stream=True)
    status, ctype, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert status == 200 and ctype.startswith("text/event-stream")
    events = sse_events(text)
    assert all(name is None for name, _ in events) and "[DONE]" not in text
    assert json.loads(events[0][1]) == {"delta": {"json": {"model": "gpt-4o-mini"}}}
    deltas = [json.loads(d)["delta"]["text"]["text"] for _, d in events if '"text":{"text"' in d]
    assert deltas == ["Echo:", " one", " two", " three"]
    out = merged(events)
    assert out["text"] == "Echo: one two three"
    assert out["usage"]["outputTokens"] == 4 and out["modelWithProvider"] == "openai/gpt-4o-mini"
    assert hub.wait_for_calls(1)[0]["stream"] is True


async def test_tool_calls_have_object_arguments_in_both_modes(hub, auth, fake_openai_thread):
    messages = [{"role": "user", "content": "weather in Paris?"}]
    body = envelope(messages, tools=[WEATHER_TOOL], toolChoice="auto")
    _, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    calls = json.loads(text)["toolCalls"]
    assert calls == [
        {
            "id": "call_fake_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
        }
    ]
    sent = fake_openai_thread.requests[-1]["body"]
    assert sent["tools"][0]["function"]["name"] == "get_weather" and sent["tool_choice"] == "auto"
    _, _, text = await post(f"{hub.url}/api/v2/chat", {**body, "options": {"streaming": True}}, auth)
    assert merged(sse_events(text))["toolCalls"] == calls
    answered = {"role": "tool", "toolCallId": "call_fake_1", "content": '{"weather":"sunny"}'}
    follow = [*messages, {"role": "agent", "toolCalls": calls}, answered]
    _, _, text = await post(f"{hub.url}/api/v2/chat", envelope(follow, tools=[WEATHER_TOOL]), auth)
    assert json.loads(text)["text"] == "Echo: weather in Paris?"
    sent = fake_openai_thread.requests[-1]["body"]["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'
    assert sent[2] == {"role": "tool", "content": '{"weather":"sunny"}', "tool_call_id": "call_fake_1"}


async def test_structured_output_is_answered_in_json(hub, auth, fake_openai_thread):
    body = envelope([{"role": "user", "content": "answer"}], responseFormat=ANSWER_SCHEMA)
    _, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    out = json.loads(text)
    assert out["json"] == {"answer": "Echo: answer"} and "text" not in out
    assert fake_openai_thread.requests[-1]["body"]["response_format"]["json_schema"]["name"] == "answer"
    _, _, text = await post(f"{hub.url}/api/v2/chat", {**body, "options": {"streaming": True}}, auth)
    out = merged(sse_events(text))
    assert out["json"] == {"answer": "Echo: answer"} and "text" not in out


async def test_reasoning_comes_back_as_thoughts(hub, auth, fake_openai_thread):
    body = envelope([{"role": "user", "content": "think"}], model="openai/reasoning-mini")
    body["input"]["modelOptions"]["reasoningEffort"] = 6000
    _, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert json.loads(text)["thoughts"] == "Thinking about: think"
    assert fake_openai_thread.requests[-1]["body"]["reasoning_effort"] == "high"
    _, _, text = await post(f"{hub.url}/api/v2/chat", {**body, "options": {"streaming": True}}, auth)
    out = merged(sse_events(text))
    assert out["thoughts"] == "Thinking about: think" and out["text"] == "Echo: think"


MALFORMED = [
    ("not json at all", "not valid JSON"),
    ([1, 2], "must be a JSON object"),
    ({"agent": "$CHAT_MODEL"}, "input must be an object"),
    ({"input": {"messages": []}}, "input.messages must be a non-empty array"),
    (
        {"input": {"messages": [{"role": "assistant2", "content": "x"}]}},
        "input.messages[0].role must be one of",
    ),
    ({"input": {"messages": [{"role": "user", "content": 5}]}}, "input.messages[0].content must be"),
    ({"input": {"messages": [{"role": "user", "content": [{"type": "video"}]}]}}, "content[0].type must be"),
    (
        {"input": {"messages": [{"role": "user", "content": [{"type": "local", "path": "/x"}]}]}},
        "local files",
    ),
    ({"input": {"messages": [{"role": "tool", "content": "x"}]}}, "toolCallId is required"),
    (
        {"input": {"messages": [{"role": "user", "content": "x"}], "toolChoice": "sometimes"}},
        "input.toolChoice",
    ),
    (
        {"input": {"messages": [{"role": "user", "content": "x"}], "tools": {"a": 1}}},
        "input.tools must be an array",
    ),
    (
        {"input": {"messages": [{"role": "user", "content": "x"}], "responseFormat": {"type": "xml"}}},
        "responseFormat",
    ),
    (
        {"input": {"messages": [{"role": "user", "content": "x"}], "modelOptions": {"temperature": "hot"}}},
        "number",
    ),
    (
        {"input": {"messages": [{"role": "user", "content": "x"}]}, "options": {"streaming": "yes"}},
        "streaming",
    ),
    (
        {"input": {"messages": [{"role": "user", "content": "x"}], "modelOptions": {"model": 7}}},
        "model must be",
    ),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED)
async def test_malformed_envelopes_are_clear_400s(hub, auth, body, message):
    status, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert status == 400, text
    error = json.loads(text)["error"]
    assert message in error["message"] and error["type"] == "invalid_request_error"


async def test_errors_known_before_the_stream_are_http_errors(hub, auth):
    body = envelope([{"role": "user", "content": "hi"}], stream=True)
    status, _, text = await post(f"{hub.url}/api/v2/chat", body, {"Authorization": "Bearer nope"})
    assert (
        status == 401
        and json.loads(text)["error"]["message"] == "Unauthorized: invalid or missing access key"
    )
    unknown = envelope([{"role": "user", "content": "hi"}], "nobody/model-x", stream=True)
    status, ctype, text = await post(f"{hub.url}/api/v2/chat", unknown, auth)
    assert status == 404 and ctype.startswith("application/json")
    assert json.loads(text)["error"]["message"] == "Model nobody/model-x not found"
    status, _, text = await post(
        f"{hub.url}/api/v2/chat", envelope([{"role": "user", "content": "x"}], "openai/fail-500", True), auth
    )
    assert status == 502 and "temporarily unavailable" in json.loads(text)["error"]["message"]


async def test_a_failure_mid_stream_is_an_error_event(hub, auth):
    body = envelope([{"role": "user", "content": "one two three four"}], "openai/stream-error", stream=True)
    status, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert status == 200
    events = sse_events(text)
    assert merged([e for e in events if e[0] is None])["text"] == "Echo: one"
    name, data = events[-1]
    assert name == "error" and "error mid-stream" in json.loads(data)["message"]
    row = hub.wait_for_calls(1)[0]
    assert row["status"] == "error" and "mid-stream" in row["error"]


# --- the older camelCase format ---------------------------------------------------------------------------


async def test_legacy_completions_json_text_and_sse(hub, auth):
    body = {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi there"}],
        "maxTokens": 50,
    }
    status, _, text = await post(f"{hub.url}/api/v2/chat/completions", body, auth)
    assert status == 200 and json.loads(text) == {
        "role": "assistant",
        "text": "Echo: hi there",
        "content": "Echo: hi there",
    }
    status, ctype, text = await post(f"{hub.url}/api/v2/completions", {**body, "stream": True}, auth)
    assert ctype.startswith("text/plain") and text == "Echo: hi there"
    sse = {**auth, "Accept": "text/event-stream"}
    status, ctype, text = await post(f"{hub.url}/api/v2/chat/completions", body, sse)
    events = sse_events(text)
    assert ctype.startswith("text/event-stream") and "[DONE]" not in text
    assert (
        "".join(json.loads(d)["delta"].get("content", "") for n, d in events if n is None and "delta" in d)
        == "Echo: hi there"
    )
    assert json.loads(events[-2][1])["usage"]["completionTokens"] == 3
    assert events[-1][0] == "server-timing" and "total;dur=" in events[-1][1]
    rows = hub.wait_for_calls(3)
    assert [r["endpoint"] for r in rows] == [
        "/api/v2/chat/completions",
        "/api/v2/completions",
        "/api/v2/chat/completions",
    ]


async def test_legacy_tool_calls_keep_string_arguments(hub, auth):
    body = {"model": "openai/gpt-4o-mini", "prompt": "weather?", "tools": [WEATHER_TOOL]}
    _, _, text = await post(f"{hub.url}/api/v2/chat/completions", body, auth)
    assert json.loads(text)["toolCalls"][0]["function"]["arguments"] == '{"city": "Paris"}'
    _, _, text = await post(
        f"{hub.url}/api/v2/chat/completions", body, {**auth, "Accept": "text/event-stream"}
    )
    last = [
        json.loads(d)["delta"]["toolCalls"] for n, d in sse_events(text) if n is None and "toolCalls" in d
    ][-1]
    assert last[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "openai/x"}, "either messages or prompt"),
        ({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}, "either messages or prompt"),
        ({"prompt": "a", "temperature": 3}, "temperature must be between 0 and 2"),
        (
            {"messages": [{"role": "agent", "content": "b"}]},
            "role must be one of system, user, assistant, tool",
        ),
        ({"prompt": "a", "stream": "yes"}, "stream must be a boolean"),
    ],
)
async def test_legacy_validation(hub, auth, body, message):
    status, _, text = await post(f"{hub.url}/api/v2/chat/completions", body, auth)
    assert status == 400 and message in json.loads(text)["error"]["message"]


async def test_legacy_sse_mid_stream_failure(hub, auth):
    body = {"model": "openai/stream-error", "prompt": "one two three"}
    _, _, text = await post(
        f"{hub.url}/api/v2/chat/completions", body, {**auth, "Accept": "text/event-stream"}
    )
    events = sse_events(text)
    assert "error mid-stream" in json.loads(events[-2][1])["error"]["message"]
    assert events[-1][0] == "server-timing"
    _, _, text = await post(f"{hub.url}/api/v2/chat/completions", {**body, "stream": True}, auth)
    assert text.startswith("Echo: one") and "ERROR: Upstream error during stream" in text


async def test_generated_pictures_come_back_as_files(hub, auth):
    body = envelope([{"role": "user", "content": "draw"}], model="openai/image-chat-1")
    _, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    files = json.loads(text)["files"]
    assert files[0]["type"] == "url" and files[0]["mimeType"] == "image/png"
    async with aiohttp.ClientSession() as session, session.get(files[0]["url"]) as r:  # no credentials
        assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
    _, _, text = await post(f"{hub.url}/api/v2/chat", {**body, "options": {"streaming": True}}, auth)
    assert merged(sse_events(text))["files"][0]["url"].startswith(f"{hub.url}/media/")
    body["input"]["outputFileType"] = "file"
    _, _, text = await post(f"{hub.url}/api/v2/chat", body, auth)
    assert json.loads(text)["files"] == [{"type": "file", "data": PNG_B64, "mimeType": "image/png"}]
