"""A reusable provider conformance matrix: subclass it, point it at your fake upstream, get the whole matrix.

A provider plugin's tests provide a ``provider_fake`` fixture (a started fake upstream that follows the
scenario contract in `hub_core.testing.fake_server`) and subclass the mixins they need::

    class TestDeepSeek(ChatConformance):
        case = ProviderCase("deepseek", chat_model="deepseek-chat", usage_details=Usage(100, 50, 40, 0, 20))

Each test starts a real hub on a real socket (``hub_server_factory``), configures the provider with the fake
as its base URL and ``provider_fake.credential``, and talks to the hub's OpenAI-compatible ``/v1`` API with
the official ``openai`` SDK. It asserts what a user notices: reply text, streamed text, tool calls, image
input, usage in the answer and in the usage log, and the status, error code and Retry-After of upstream
failures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from hub_core.testing.fake_server import (
    FAIL_401,
    FAIL_429,
    FAIL_500,
    MALFORMED,
    PNG_1PX_DATA_URL,
    RETRY_AFTER_SECONDS,
    STREAM_ERROR,
    USAGE_DETAILS,
)
from hub_core.testing.provider_tests import openai_client, provider_hub
from hub_core.testing.server import HubServer
from hub_core.types import Usage

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

#: (scenario, HTTP status the client gets, error code in the body)
UPSTREAM_FAILURES = [
    (FAIL_401, 502, "upstream_auth_failed"),
    (FAIL_429, 429, "rate_limited"),
    (FAIL_500, 502, "upstream_error"),
    (MALFORMED, 502, "upstream_malformed"),
]


def _same_name(scenario: str) -> str:
    return scenario


@dataclass
class ProviderCase:
    """What the matrix needs to know about one provider and its fake."""

    provider: str
    chat_model: str = "fake-model"
    embedding_model: str | None = None
    image_model: str | None = None
    #: the standard usage the fake's ``usage-details`` model must come out as (None: no details reported)
    usage_details: Usage | None = None
    #: whether the answer itself shows cached/reasoning details in OpenAI's fields; a pass-through vendor that
    #: reports them in its own fields only (DeepSeek's older ``prompt_cache_hit_tokens``) has them logged only
    usage_details_in_answer: bool = True
    #: Retry-After the client must see on an upstream 429 (None: the vendor sends none, so none is checked)
    retry_after: str | None = str(RETRY_AFTER_SECONDS)
    image_input: bool = True
    tools: bool = True
    stream_error: bool = True
    #: the model name that makes the fake play a scenario (``fail-429``, ``usage-details`` ...)
    scenario_model: Callable[[str], str] = _same_name
    #: image-only vendors without a model field read the scenario from the prompt instead
    image_scenario_in_prompt: bool = False
    #: what the plugin must declare it supports
    capabilities: frozenset[str] = frozenset({"chat"})
    #: a model ``/v1/models`` must list once the provider is configured (None: not checked)
    listed_model: str | None = None


class _Conformance:
    case: ClassVar[ProviderCase]

    @pytest.fixture
    def conformance_hub(self, hub_server_factory: Callable[..., HubServer], provider_fake: Any) -> HubServer:
        return provider_hub(hub_server_factory, self.case.provider, provider_fake)

    @pytest.fixture
    def client(self, conformance_hub: HubServer) -> Any:
        return openai_client(conformance_hub)

    def model(self, name: str) -> str:
        return f"{self.case.provider}/{name}"

    def scenario(self, scenario: str) -> str:
        return self.model(self.case.scenario_model(scenario))

    def test_provider_is_described(self, conformance_hub: HubServer) -> None:
        """The admin form gets the credential schema, env fallbacks, base URL, capabilities and test model."""
        import urllib.request

        req = urllib.request.Request(
            f"{conformance_hub.url}/api/ai-providers/available",
            headers={"Authorization": f"Bearer {conformance_hub.admin_key}"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            entries = json.loads(resp.read())
        entry = next(p for p in entries if p["name"] == self.case.provider)
        assert entry["defaultBaseUrl"].startswith(("http://", "https://"))
        assert set(entry["capabilities"]) == set(self.case.capabilities)
        assert entry["credentialSchema"]["type"] == "object" and entry["credentialSchema"]["properties"]
        assert entry["testModel"]
        assert entry["pluginEnabled"] is True

    def test_models_listed(self, client: Any) -> None:
        if self.case.listed_model is None:
            pytest.skip("no model listing checked for this provider")
        ids = {m.id for m in client.models.list()}
        assert self.model(self.case.listed_model) in ids

    @staticmethod
    def assert_upstream_error(exc: Any, status: int, code: str, retry_after: str | None) -> None:
        assert exc.status_code == status, exc
        assert exc.body["code"] == code, exc.body
        if status == 429 and retry_after is not None:
            assert exc.response.headers.get("retry-after") == retry_after


class ChatConformance(_Conformance):
    """Chat completions through ``/v1/chat/completions``: JSON, streaming, tools, images, usage, errors."""

    def test_chat_reply_and_usage_log(self, client: Any, conformance_hub: HubServer) -> None:
        reply = client.chat.completions.create(
            model=self.model(self.case.chat_model), messages=[{"role": "user", "content": "hello there"}]
        )
        assert reply.choices[0].message.content == "Echo: hello there"
        assert reply.choices[0].finish_reason == "stop"
        assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
        row = conformance_hub.wait_for_calls(1)[0]
        assert (row["status"], row["provider"], row["stream"]) == ("success", self.case.provider, False)
        assert (row["input_tokens"], row["output_tokens"]) == (
            reply.usage.prompt_tokens,
            reply.usage.completion_tokens,
        )

    def test_system_prompt_and_history(self, client: Any) -> None:
        reply = client.chat.completions.create(
            model=self.model(self.case.chat_model),
            messages=[
                {"role": "system", "content": "Be brief"},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "first answer"},
                {"role": "user", "content": [{"type": "text", "text": "second question"}]},
            ],
        )
        assert reply.choices[0].message.content == "Echo: second question (system: Be brief)"

    def test_stream_with_usage(self, client: Any, conformance_hub: HubServer) -> None:
        stream = client.chat.completions.create(
            model=self.model(self.case.chat_model),
            messages=[{"role": "user", "content": "hello there"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "Echo: hello there"
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
            "stop"
        ]
        usage_chunks = [c for c in chunks if c.usage]
        assert len(usage_chunks) == 1 and not usage_chunks[0].choices, "one usage-only chunk, last"
        assert chunks[-1] is usage_chunks[0]
        row = conformance_hub.wait_for_calls(1)[0]
        assert (row["status"], row["stream"]) == ("success", True)
        usage = usage_chunks[0].usage
        assert (row["input_tokens"], row["output_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)
        assert not (row["metadata"] or {}).get("usage_estimated")

    def test_stream_without_usage_option_sends_no_usage(
        self, client: Any, conformance_hub: HubServer
    ) -> None:
        chunks = list(
            client.chat.completions.create(
                model=self.model(self.case.chat_model),
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
            )
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hi"
        assert all(c.usage is None for c in chunks)
        assert conformance_hub.wait_for_calls(1)[0]["output_tokens"] > 0, "usage is still logged"

    def test_tool_call(self, client: Any) -> None:
        if not self.case.tools:
            pytest.skip("provider has no tool calling")
        reply = client.chat.completions.create(
            model=self.model(self.case.chat_model),
            messages=[{"role": "user", "content": "weather in Paris?"}],
            tools=[WEATHER_TOOL],
        )
        choice = reply.choices[0]
        assert choice.finish_reason == "tool_calls"
        call = choice.message.tool_calls[0]
        assert call.id and call.type == "function"
        assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})

    def test_tool_call_stream(self, client: Any) -> None:
        if not self.case.tools:
            pytest.skip("provider has no tool calling")
        stream = client.chat.completions.create(
            model=self.model(self.case.chat_model),
            messages=[{"role": "user", "content": "weather in Paris?"}],
            tools=[WEATHER_TOOL],
            stream=True,
        )
        calls: dict[int, dict[str, str]] = {}
        finish = []
        for chunk in stream:
            if not chunk.choices:
                continue
            if chunk.choices[0].finish_reason:
                finish.append(chunk.choices[0].finish_reason)
            for tc in chunk.choices[0].delta.tool_calls or []:
                slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                slot["id"] += tc.id or ""
                slot["name"] += (tc.function and tc.function.name) or ""
                slot["arguments"] += (tc.function and tc.function.arguments) or ""
        assert finish == ["tool_calls"]
        assert list(calls) == [0] and calls[0]["id"]
        assert (calls[0]["name"], json.loads(calls[0]["arguments"])) == ("get_weather", {"city": "Paris"})

    def test_tool_result_round_trip(self, client: Any) -> None:
        if not self.case.tools:
            pytest.skip("provider has no tool calling")
        reply = client.chat.completions.create(
            model=self.model(self.case.chat_model),
            tools=[WEATHER_TOOL],
            messages=[
                {"role": "user", "content": "weather in Paris?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_abc",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_abc", "content": "18C and sunny"},
            ],
        )
        assert reply.choices[0].message.content == "Tool result: 18C and sunny"

    def test_image_input(self, client: Any) -> None:
        if not self.case.image_input:
            pytest.skip("provider takes no image input")
        reply = client.chat.completions.create(
            model=self.model(self.case.chat_model),
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this?"},
                        {"type": "image_url", "image_url": {"url": PNG_1PX_DATA_URL}},
                    ],
                }
            ],
        )
        assert reply.choices[0].message.content == "Echo: what is this? [image:image/png]"

    def test_usage_details(self, client: Any, conformance_hub: HubServer) -> None:
        expected = self.case.usage_details
        if expected is None:
            pytest.skip("vendor reports no cached/reasoning usage")
        model = self.scenario(USAGE_DETAILS)
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        stream = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        streamed = [c.usage for c in stream if c.usage][-1]
        for usage in (reply.usage, streamed):
            assert usage.prompt_tokens == expected.input_tokens
            assert usage.completion_tokens == expected.output_tokens
            if self.case.usage_details_in_answer:
                assert usage.prompt_tokens_details.cached_tokens == expected.cached_input_tokens
                assert usage.completion_tokens_details.reasoning_tokens == expected.reasoning_tokens
        for row in conformance_hub.wait_for_calls(2):
            got = (row["input_tokens"], row["output_tokens"], row["cached_tokens"], row["reasoning_tokens"])
            want = (expected.input_tokens, expected.output_tokens, expected.cached_input_tokens)
            assert got == (*want, expected.reasoning_tokens)
            assert row["cache_write_tokens"] == expected.cache_write_tokens

    @pytest.mark.parametrize(("scenario", "status", "code"), UPSTREAM_FAILURES)
    @pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
    def test_upstream_failure(
        self, client: Any, conformance_hub: HubServer, scenario: str, status: int, code: str, stream: bool
    ) -> None:
        import openai

        if stream and scenario == MALFORMED:
            pytest.skip("a malformed JSON answer only exists without streaming")
        with pytest.raises(openai.APIStatusError) as info:
            result = client.chat.completions.create(
                model=self.scenario(scenario), messages=[{"role": "user", "content": "hi"}], stream=stream
            )
            if stream:
                list(result)
        self.assert_upstream_error(info.value, status, code, self.case.retry_after)
        row = conformance_hub.wait_for_calls(1)[0]
        assert (row["status"], row["http_status"]) == ("error", status)

    def test_error_after_first_byte_is_reported_in_stream(
        self, client: Any, conformance_hub: HubServer
    ) -> None:
        import openai

        if not self.case.stream_error:
            pytest.skip("the vendor has no in-stream error event")
        received = []
        with pytest.raises(openai.APIError) as info:
            for chunk in client.chat.completions.create(
                model=self.scenario(STREAM_ERROR),
                messages=[{"role": "user", "content": "one two three four"}],
                stream=True,
            ):
                if chunk.choices and chunk.choices[0].delta.content:
                    received.append(chunk.choices[0].delta.content)
        assert "".join(received) == "Echo: one", "the text before the failure arrives"
        assert "mid-stream" in str(info.value)
        assert conformance_hub.wait_for_calls(1)[0]["status"] == "error"

    def test_every_client_dialect(self, conformance_hub: HubServer) -> None:
        """The same chat through the AIGNE ``/api/v2/chat`` and the Anthropic-compatible ``/v1/messages``."""
        import urllib.request

        key = conformance_hub.create_key()
        envelope = {
            "input": {
                "messages": [{"role": "user", "content": "hello there"}],
                "modelOptions": {"model": self.model(self.case.chat_model)},
            },
            "agent": "$CHAT_MODEL",
            "options": {},
        }
        req = urllib.request.Request(
            f"{conformance_hub.url}/api/v2/chat",
            data=json.dumps(envelope).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.loads(resp.read())
        assert answer["text"] == "Echo: hello there"
        assert answer["usage"]["outputTokens"] > 0
        envelope["options"] = {"streaming": True}
        req = urllib.request.Request(
            f"{conformance_hub.url}/api/v2/chat",
            data=json.dumps(envelope).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            streamed = _merge_aigne_stream(resp.read())
        assert streamed["text"] == "Echo: hello there"
        assert streamed["usage"]["outputTokens"] > 0
        anthropic = pytest.importorskip("anthropic")
        client = anthropic.Anthropic(base_url=conformance_hub.url, api_key=key, max_retries=0)
        message = client.messages.create(
            model=self.model(self.case.chat_model),
            max_tokens=256,
            messages=[{"role": "user", "content": "hello there"}],
        )
        assert message.content[0].text == "Echo: hello there"
        assert message.usage.output_tokens > 0
        with client.messages.stream(
            model=self.model(self.case.chat_model),
            max_tokens=256,
            messages=[{"role": "user", "content": "hello there"}],
        ) as stream:
            assert "".join(stream.text_stream) == "Echo: hello there"
        rows = conformance_hub.wait_for_calls(4)
        assert [r["status"] for r in rows] == ["success"] * 4


def _merge_aigne_stream(raw: bytes) -> dict[str, Any]:
    """Fold an AIGNE stream the way the official client does: append text deltas, merge json deltas."""
    out: dict[str, Any] = {"text": ""}
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        assert not block.startswith("event:"), f"unexpected event in a good stream: {block}"
        assert block.startswith("data: ") and "[DONE]" not in block
        delta = json.loads(block[len("data: ") :]).get("delta", {})
        for key, text in (delta.get("text") or {}).items():
            out[key] = out.get(key, "") + text
        out.update(delta.get("json") or {})
    return out


class EmbeddingConformance(_Conformance):
    """``/v1/embeddings``: float vectors (the SDK asks for base64 and decodes it), usage, errors."""

    def test_embeddings(self, client: Any, conformance_hub: HubServer) -> None:
        assert self.case.embedding_model, "set ProviderCase.embedding_model"
        result = client.embeddings.create(
            model=self.model(self.case.embedding_model), input=["one two", "three"]
        )
        assert [d.index for d in result.data] == [0, 1]
        assert all(
            len(d.embedding) > 0 and all(isinstance(x, float) for x in d.embedding) for d in result.data
        )
        assert result.data[0].embedding != result.data[1].embedding
        row = conformance_hub.wait_for_calls(1)[0]
        assert (row["status"], row["kind"]) == ("success", "embedding")
        assert row["input_tokens"] == result.usage.prompt_tokens > 0

    def test_embeddings_as_floats_when_asked(self, client: Any) -> None:
        result = client.embeddings.create(
            model=self.model(self.case.embedding_model or ""), input="one two", encoding_format="float"
        )
        assert isinstance(result.data[0].embedding, list) and isinstance(result.data[0].embedding[0], float)

    @pytest.mark.parametrize(("scenario", "status", "code"), UPSTREAM_FAILURES)
    def test_embedding_failure(self, client: Any, scenario: str, status: int, code: str) -> None:
        import openai

        with pytest.raises(openai.APIStatusError) as info:
            client.embeddings.create(model=self.scenario(scenario), input="hi")
        self.assert_upstream_error(info.value, status, code, self.case.retry_after)


class ImageConformance(_Conformance):
    """``/v1/images/generations``: images come back as URLs or base64, counted in the usage log."""

    def image_request(self, scenario: str | None = None) -> dict[str, Any]:
        assert self.case.image_model, "set ProviderCase.image_model"
        if scenario is None:
            return {"model": self.model(self.case.image_model), "prompt": "a cat"}
        if self.case.image_scenario_in_prompt:
            return {"model": self.model(self.case.image_model), "prompt": scenario}
        return {"model": self.scenario(scenario), "prompt": "a cat"}

    def test_image_generation(self, client: Any, conformance_hub: HubServer) -> None:
        result = client.images.generate(**self.image_request(), n=2, size="1024x1024")
        assert len(result.data) == 2
        assert all(d.url or d.b64_json for d in result.data)
        row = conformance_hub.wait_for_calls(1)[0]
        assert (row["status"], row["kind"], row["images"]) == ("success", "image", 2)

    @pytest.mark.parametrize(("scenario", "status", "code"), UPSTREAM_FAILURES)
    def test_image_failure(self, client: Any, scenario: str, status: int, code: str) -> None:
        import openai

        with pytest.raises(openai.APIStatusError) as info:
            client.images.generate(**self.image_request(scenario))
        self.assert_upstream_error(info.value, status, code, self.case.retry_after)
