"""A typed view of the standard chat request (an OpenAI Chat Completions body) for translating providers.

`ChatRequest.parse(payload)` checks the body's shape once, with the same 400s (naming the bad field) for
every provider, and gives objects instead of dicts: messages with a normalised role, content parts (`Text`,
`Image`, `Audio`, `File`, or `OtherPart` for types a provider may refuse), tool calls with parsed arguments,
tool results with the name of the tool they answer, tools, the tool choice and the response format. A
provider reads these and writes its vendor's shape; what it does not support it refuses itself
(`unsupported`), naming the field. Extensions a provider reads (``cache_control``, ``thinking_blocks`` ...)
stay reachable: every part, message and tool keeps its `raw` dict, and `ChatRequest.raw` is the whole body.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from hub_core.errors import HubError, bad_request

Role = Literal["system", "user", "assistant", "tool"]
#: OpenAI roles and the role they are read as
ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}


def unsupported(where: str, what: str, vendor: str) -> HubError:
    """The 400 for a field a vendor cannot take: ``messages[0].content[1]: input_audio is not supported by
    Anthropic``."""
    return bad_request(f"{where}: {what} is not supported by {vendor}", param=where)


# --- content parts ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def cache_control(self) -> dict[str, Any] | None:
        return _cache_control(self.raw)


@dataclass(frozen=True, slots=True)
class Inline:
    """Bytes sent inside the request: a ``data:`` URL's or a base64 field's, still base64 (`data`)."""

    mime: str
    data: str

    def decode(self) -> bytes:
        return base64.b64decode(self.data)


@dataclass(frozen=True, slots=True)
class Image:
    """An ``image_url`` part: `inline` for a data URL (base64 checked), else `url` (http(s) or another
    scheme the vendor may know)."""

    url: str
    inline: Inline | None
    detail: str | None
    where: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def cache_control(self) -> dict[str, Any] | None:
        return _cache_control(self.raw)

    @property
    def is_remote(self) -> bool:
        return self.inline is None and self.url.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class Audio:
    """An ``input_audio`` part: base64 `data` in `format` (``wav``, ``mp3``)."""

    data: str
    format: str
    where: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mime(self) -> str:
        return f"audio/{'mpeg' if self.format == 'mp3' else self.format}"


@dataclass(frozen=True, slots=True)
class File:
    """A ``file`` part: `inline` when sent as ``file_data`` (a data URL, or bare base64 read as a PDF), else
    only an uploaded `file_id`."""

    inline: Inline | None
    file_id: str | None
    filename: str | None
    where: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def cache_control(self) -> dict[str, Any] | None:
        return _cache_control(self.raw)


@dataclass(frozen=True, slots=True)
class OtherPart:
    """A part of another type (``refusal`` ...), for the provider to take or refuse."""

    type: str
    where: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


Part = Text | Image | Audio | File | OtherPart


# --- messages and tools ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolCall:
    """An assistant's call of a function tool; `arguments` parsed from OpenAI's JSON string."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(slots=True)
class Message:
    """One message. `role` is normalised (``developer`` → ``system``, ``function`` → ``tool``); a tool
    result has `tool_call_id` and `tool_name` (from the call it answers, else its ``name``)."""

    role: Role
    parts: list[Part]
    index: int
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    tool_name: str | None = None
    reasoning: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"messages[{self.index}]"

    @property
    def text(self) -> str:
        """The text parts joined without separators (as OpenAI does)."""
        return "".join(p.text for p in self.parts if isinstance(p, Text))

    @property
    def images(self) -> list[Image]:
        return [p for p in self.parts if isinstance(p, Image)]

    @property
    def json_object(self) -> dict[str, Any] | None:
        """The text as a JSON object when it is one (a tool's structured result), else None."""
        try:
            value = json.loads(self.text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def content_is_list(self) -> bool:
        """Whether the content came as an array of parts (a tool result's blocks) rather than a string."""
        return isinstance(self.raw.get("content"), list)

    @property
    def cache_control(self) -> dict[str, Any] | None:
        return _cache_control(self.raw)


@dataclass(frozen=True, slots=True)
class Tool:
    """A function tool; `parameters` is its JSON schema (None when it takes none)."""

    name: str
    description: str
    parameters: dict[str, Any] | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def cache_control(self) -> dict[str, Any] | None:
        return _cache_control(self.raw)


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """``auto``, ``none``, ``required`` or ``function`` (with the function's `name`)."""

    mode: Literal["auto", "none", "required", "function"]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """``text``, ``json_object`` or ``json_schema`` (with the schema and its name and description)."""

    type: Literal["text", "json_object", "json_schema"]
    schema: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None


@dataclass(slots=True)
class ChatRequest:
    """The standard chat request as objects. `raw` is the body itself, for vendor-specific fields."""

    messages: list[Message]
    tools: list[Tool]
    tool_choice: ToolChoice | None
    response_format: ResponseFormat | None
    max_tokens: int | None
    stop: list[str]
    raw: dict[str, Any]

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> ChatRequest:
        """Read a Chat Completions body; a 400 `HubError` naming the field for a malformed one."""
        messages = _messages(payload.get("messages"))
        return cls(
            messages=messages,
            tools=_tools(payload.get("tools")),
            tool_choice=_tool_choice(payload.get("tool_choice")),
            response_format=_response_format(payload.get("response_format")),
            max_tokens=_max_tokens(payload),
            stop=_stop(payload.get("stop")),
            raw=payload,
        )

    @property
    def system(self) -> list[Message]:
        return [m for m in self.messages if m.role == "system"]

    @property
    def conversation(self) -> list[Message]:
        """Every message but the system ones, in order."""
        return [m for m in self.messages if m.role != "system"]

    def number(self, name: str) -> float | None:
        """A numeric sampling field (``temperature``, ``top_p`` ...), None when absent; 400 when not a
        number."""
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"{name} must be a number", param=name)
        return value

    @property
    def reasoning_effort(self) -> str | None:
        effort = self.raw.get("reasoning_effort")
        return str(effort) if effort is not None else None


# --- parsing ---------------------------------------------------------------------------------------------


def _cache_control(raw: dict[str, Any]) -> dict[str, Any] | None:
    mark = raw.get("cache_control")
    return mark if isinstance(mark, dict) else None


def parse_inline(url: str, where: str) -> Inline:
    """``data:image/png;base64,AAAA`` → `Inline`; 400 for a data URL that is not valid base64."""
    header, sep, data = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        raise bad_request(f"{where}: data URLs must be base64-encoded (data:<mime>;base64,...)", param=where)
    mime = header[: -len(";base64")].split(";", 1)[0].lower() or "application/octet-stream"
    _check_base64(data, where)
    return Inline(mime, data)


def _check_base64(data: str, where: str) -> None:
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(f"{where}: not valid base64: {exc}", param=where) from exc


def _part(part: Any, where: str) -> Part | None:
    if isinstance(part, str):
        return Text(part) if part else None
    if not isinstance(part, dict):
        raise bad_request(f"{where} must be an object", param=where)
    kind = part.get("type")
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str):
            raise bad_request(f"{where}.text must be a string", param=where)
        return Text(text, part) if text else None
    if kind == "image_url":
        ref = part.get("image_url")
        url = ref.get("url") if isinstance(ref, dict) else ref
        if not isinstance(url, str) or not url:
            raise bad_request(f"{where}.image_url.url must be a URL or a data URL", param=where)
        inline = parse_inline(url, where) if url.startswith("data:") else None
        detail = ref.get("detail") if isinstance(ref, dict) else None
        return Image(url, inline, detail, where, part)
    if kind == "input_audio":
        audio = part.get("input_audio")
        if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
            raise bad_request(f"{where}.input_audio needs base64 data", param=where)
        return Audio(audio["data"], str(audio.get("format") or "wav"), where, part)
    if kind == "file":
        return _file(part, where)
    return OtherPart(str(kind), where, part)


def _file(part: dict[str, Any], where: str) -> File:
    file = part.get("file")
    if not isinstance(file, dict):
        raise bad_request(f"{where}.file must be an object", param=where)
    data = file.get("file_data")
    inline = None
    if isinstance(data, str) and data:
        if data.startswith("data:"):
            inline = parse_inline(data, where)
        else:  # OpenAI's SDKs send bare base64 for PDFs
            _check_base64(data, where)
            inline = Inline("application/pdf", data)
    filename = file.get("filename")
    file_id = file.get("file_id")
    return File(
        inline,
        file_id if isinstance(file_id, str) else None,
        filename if isinstance(filename, str) and filename else None,
        where,
        part,
    )


def _parts(content: Any, where: str) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Text(content)] if content else []
    if not isinstance(content, list):
        raise bad_request(f"{where}.content must be a string or an array", param=where)
    parts = [_part(p, f"{where}.content[{j}]") for j, p in enumerate(content)]
    return [p for p in parts if p is not None]


def _tool_call(call: Any, where: str) -> ToolCall:
    fn = call.get("function") if isinstance(call, dict) else None
    if not isinstance(fn, dict) or not fn.get("name") or not call.get("id"):
        raise bad_request(f"{where} needs an id and a function name", param=where)
    raw = fn.get("arguments")
    if isinstance(raw, dict):
        arguments = raw
    else:
        try:
            arguments = json.loads(raw) if raw else {}
        except (TypeError, ValueError) as exc:
            raise bad_request(f"{where}.function.arguments is not valid JSON", param=where) from exc
        if not isinstance(arguments, dict):
            raise bad_request(f"{where}.function.arguments must be a JSON object", param=where)
    return ToolCall(str(call["id"]), str(fn["name"]), arguments)


def _messages(raw: Any) -> list[Message]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("messages must be an array", param="messages")
    out: list[Message] = []
    names: dict[str, str] = {}  # tool-call id → function name, for the tool results that follow
    for i, msg in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise bad_request(f"{where} must be an object", param=where)
        role = ROLES.get(str(msg.get("role")))
        if role is None:
            raise bad_request(f"{where}.role {msg.get('role')!r} is not a chat role", param=where)
        message = Message(role, _parts(msg.get("content"), where), i, raw=msg)
        if role == "assistant":
            calls = msg.get("tool_calls") or []
            if not isinstance(calls, list):
                raise bad_request(f"{where}.tool_calls must be an array", param=where)
            message.tool_calls = [_tool_call(c, f"{where}.tool_calls[{j}]") for j, c in enumerate(calls)]
            names.update((c.id, c.name) for c in message.tool_calls)
            reasoning = msg.get("reasoning_content")
            message.reasoning = reasoning if isinstance(reasoning, str) and reasoning else None
        elif role == "tool":
            call_id = msg.get("tool_call_id")
            message.tool_call_id = str(call_id) if call_id else None
            name = msg.get("name")
            message.tool_name = names.get(str(call_id)) or (str(name) if name else None)
        out.append(message)
    return out


def _tools(raw: Any) -> list[Tool]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("tools must be an array", param="tools")
    out = []
    for i, tool in enumerate(raw):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type", "function") != "function" or not isinstance(fn, dict) or not fn.get("name"):
            raise bad_request(f"tools[{i}] must be a function tool with a name", param="tools")
        parameters = fn.get("parameters")
        out.append(
            Tool(
                str(fn["name"]),
                str(fn.get("description") or ""),
                parameters if isinstance(parameters, dict) and parameters else None,
                tool,
            )
        )
    return out


def _tool_choice(raw: Any) -> ToolChoice | None:
    if raw is None:
        return None
    if raw in ("auto", "none", "required"):
        return ToolChoice(raw)
    if isinstance(raw, dict) and isinstance(raw.get("function"), dict) and raw["function"].get("name"):
        return ToolChoice("function", str(raw["function"]["name"]))
    raise bad_request(
        "tool_choice must be 'auto', 'none', 'required' or a function choice", param="tool_choice"
    )


def _response_format(raw: Any) -> ResponseFormat | None:
    if not raw:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind != "json_schema":
        raise bad_request(
            "response_format.type must be 'text', 'json_object' or 'json_schema'", param="response_format"
        )
    spec = raw.get("json_schema") if isinstance(raw.get("json_schema"), dict) else {}
    schema = spec.get("schema")
    return ResponseFormat(
        "json_schema",
        schema if isinstance(schema, dict) else None,
        str(spec["name"]) if spec.get("name") else None,
        str(spec["description"]) if spec.get("description") else None,
    )


def _max_tokens(payload: dict[str, Any]) -> int | None:
    value = payload.get("max_completion_tokens") or payload.get("max_tokens")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request("max_tokens must be a positive integer", param="max_tokens")
    return value


def _stop(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [raw] if raw else []
    return [s for s in raw if isinstance(s, str) and s] if isinstance(raw, list) else []
