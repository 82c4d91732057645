"""`hub_core.providers.ChatRequest`: the typed view translating providers read (no sockets)."""

from __future__ import annotations

import base64

import pytest

from hub_core import HubError
from hub_core.providers import Audio, ChatRequest, File, Image, OtherPart, Text, ToolCall, ToolChoice

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
PDF = base64.b64encode(b"%PDF-1.4").decode()


def test_messages_parts_tool_calls_and_results_as_objects():
    request = ChatRequest.parse(
        {
            "messages": [
                {"role": "developer", "content": "Be brief"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is ", "cache_control": {"type": "ephemeral"}},
                        {"type": "text", "text": "this?"},
                        {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
                        {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
                        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "mp3"}},
                        {"type": "file", "file": {"file_data": PDF, "filename": "a.pdf"}},
                        {"type": "refusal", "refusal": "no"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "max_completion_tokens": 100,
            "stop": "END",
        }
    )
    system, user, assistant, tool = request.messages
    assert (system.role, system.text) == ("system", "Be brief")
    assert user.text == "What is this?"
    text, _, image, remote, audio, file, other = user.parts
    assert isinstance(text, Text) and text.cache_control == {"type": "ephemeral"}
    assert isinstance(image, Image) and image.inline and image.inline.mime == "image/png"
    assert image.inline.decode() == b"\x89PNG" and image.detail == "low" and not image.is_remote
    assert isinstance(remote, Image) and remote.is_remote and remote.inline is None
    assert isinstance(audio, Audio) and audio.mime == "audio/mpeg"
    assert isinstance(file, File) and file.inline and file.inline.mime == "application/pdf"
    assert file.filename == "a.pdf" and file.where == "messages[1].content[5]"
    assert isinstance(other, OtherPart) and other.type == "refusal"
    assert assistant.tool_calls == [ToolCall("c1", "f", {"a": 1})]
    assert (tool.role, tool.tool_call_id, tool.tool_name, tool.text) == ("tool", "c1", "f", "42")
    assert tool.json_object is None  # a result that is not a JSON object stays text
    structured = ChatRequest.parse({"messages": [{"role": "tool", "content": '{"temp": 21}'}]}).messages[0]
    assert structured.json_object == {"temp": 21}
    assert [t.name for t in request.tools] == ["f"] and request.tool_choice == ToolChoice("function", "f")
    assert (request.max_tokens, request.stop) == (100, ["END"])
    assert [m.role for m in request.conversation] == ["user", "assistant", "tool"]


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0]"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]},
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:x"}}]}
                ]
            },
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{"}}],
                    }
                ]
            },
            "messages[0].tool_calls[0]",
        ),
        ({"tools": [{"type": "function", "function": {}}]}, "tools"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
)
def test_a_malformed_request_is_a_400_naming_the_field(payload, param):
    with pytest.raises(HubError) as err:
        ChatRequest.parse(payload)
    assert (err.value.status, err.value.param) == (400, param)
