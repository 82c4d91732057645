"""AIGNE agent-invocation requests (``POST /api/v2/chat``): the envelope ``{input, agent, options}`` to a
standard chat request, with clear 400s for malformed envelopes, plus the validators every ``/api/v2`` endpoint
shares. Answers go back through `hub_core.web.dialects.aigne_output`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub_core.errors import bad_request

DEFAULT_CHAT_MODEL = "openai/gpt-5-mini"
ROLES = {"system": "system", "user": "user", "agent": "assistant", "assistant": "assistant", "tool": "tool"}
TOOL_CHOICES = ("auto", "none", "required")
#: modelOptions the standard request understands; every other key (cacheConfig, preferInputFileType ...)
#: is a client-side setting and is accepted and ignored.
NUMBER_OPTIONS = {
    "temperature": "temperature",
    "topP": "top_p",
    "frequencyPenalty": "frequency_penalty",
    "presencePenalty": "presence_penalty",
}
#: leading base64 characters of common file types, for file parts that carry no mimeType
MAGIC = {"iVBOR": "image/png", "/9j/": "image/jpeg", "R0lGOD": "image/gif", "UklGR": "image/webp"}
MAGIC_OTHER = {"JVBER": "application/pdf", "SUQz": "audio/mpeg", "//u": "audio/mpeg"}
AUDIO_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}


# --- small validators shared by every /api/v2 endpoint ---------------------------------------------------


def need_object(value: Any, where: str, *, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be an object", param=where)
    return value


def opt_string(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{where}.{key} must be a string", param=f"{where}.{key}")
    return value


def opt_number(obj: dict[str, Any], key: str, where: str) -> float | int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"{where}.{key} must be a number", param=f"{where}.{key}")
    return value


def resolve_model(body: dict[str, Any], inp: dict[str, Any], default: str) -> str:
    """``input.modelOptions.model`` || ``body.model`` || ``input.model`` || the endpoint's default."""
    options = inp.get("modelOptions") if isinstance(inp.get("modelOptions"), dict) else {}
    for where, value in (
        ("input.modelOptions.model", options.get("model")),
        ("model", body.get("model")),
        ("input.model", inp.get("model")),
    ):
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not value.strip():
            raise bad_request(f"{where} must be a string such as 'openai/gpt-4o-mini'", param=where)
        return value.strip()
    return default


def envelope(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``input`` and ``options`` objects of an agent-invocation body."""
    inp = need_object(body.get("input"), "input")
    options = need_object(body.get("options"), "options", required=False)
    if "streaming" in options and not isinstance(options["streaming"], bool | None):
        raise bad_request("options.streaming must be a boolean", param="options.streaming")
    return inp, options


# --- request: envelope -> standard chat request ----------------------------------------------------------


@dataclass(slots=True)
class ChatCall:
    model: str
    payload: dict[str, Any]
    stream: bool
    json_mode: bool
    output: str = "url"  # how generated files come back: "url" (stored by the hub) or "file" (inline)


def parse_chat(body: dict[str, Any]) -> ChatCall:
    inp, options = envelope(body)
    model = resolve_model(body, inp, DEFAULT_CHAT_MODEL)
    payload: dict[str, Any] = {"model": model, "messages": _messages(inp.get("messages"))}
    tools = tools_in(inp.get("tools"))
    if tools:
        payload["tools"] = tools
    if inp.get("toolChoice") is not None:
        payload["tool_choice"] = tool_choice_in(inp["toolChoice"])
    response_format = response_format_in(inp.get("responseFormat"))
    if response_format is not None:
        payload["response_format"] = response_format
    _model_options(need_object(inp.get("modelOptions"), "input.modelOptions", required=False), payload)
    output = "file" if inp.get("outputFileType") == "file" else "url"
    return ChatCall(model, payload, bool(options.get("streaming")), response_format is not None, output)


def _messages(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise bad_request("input.messages must be a non-empty array", param="input.messages")
    return [_message(msg, f"input.messages[{i}]") for i, msg in enumerate(raw)]


def _message(msg: Any, where: str) -> dict[str, Any]:
    msg = need_object(msg, where)
    role = ROLES.get(msg.get("role")) if isinstance(msg.get("role"), str) else None
    if role is None:
        raise bad_request(f"{where}.role must be one of system, user, agent, tool", param=f"{where}.role")
    out: dict[str, Any] = {"role": role, "content": _content(msg.get("content"), f"{where}.content")}
    if msg.get("toolCalls"):
        out["tool_calls"] = _tool_calls_in(msg["toolCalls"], f"{where}.toolCalls")
    if role == "tool":
        call_id = opt_string(msg, "toolCallId", where)
        if not call_id:
            raise bad_request(
                f"{where}.toolCallId is required for tool messages", param=f"{where}.toolCallId"
            )
        out["tool_call_id"] = call_id
    if name := opt_string(msg, "name", where):
        out["name"] = name
    return out


def _content(content: Any, where: str) -> str | list[dict[str, Any]] | None:
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad_request(f"{where} must be a string or an array of parts", param=where)
    return [_part(part, f"{where}[{i}]") for i, part in enumerate(content)]


def _part(part: Any, where: str) -> dict[str, Any]:
    part = need_object(part, where)
    kind = part.get("type")
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise bad_request(f"{where}.text must be a string", param=f"{where}.text")
        return {"type": "text", "text": part["text"]}
    if kind == "url":
        url = opt_string(part, "url", where)
        if not url:
            raise bad_request(f"{where}.url is required", param=f"{where}.url")
        return {"type": "image_url", "image_url": {"url": url}}
    if kind == "file":
        data = opt_string(part, "data", where)
        if not data:
            raise bad_request(f"{where}.data must be a base64 string", param=f"{where}.data")
        return file_part(data, opt_string(part, "mimeType", where), opt_string(part, "filename", where))
    if kind == "local":
        raise bad_request(
            f"{where}: local files cannot be read by the hub; send them as file parts", param=where
        )
    raise bad_request(f"{where}.type must be text, file or url", param=f"{where}.type")


def file_part(data: str, mime: str | None, filename: str | None) -> dict[str, Any]:
    """A base64 file as the standard request carries it: images inline, audio as input_audio, other files
    (PDF ...) as file parts. A data URL is accepted as well as bare base64."""
    if data.startswith("data:") and ";base64," in data:
        head, data = data.split(",", 1)
        mime = mime or head[5:].split(";", 1)[0]
    mime = (mime or sniff_mime(data)).lower()
    if mime in AUDIO_FORMATS:
        return {"type": "input_audio", "input_audio": {"data": data, "format": AUDIO_FORMATS[mime]}}
    if not mime.startswith("image/"):
        return {
            "type": "file",
            "file": {"file_data": f"data:{mime};base64,{data}", "filename": filename or "file"},
        }
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def sniff_mime(data: str) -> str:
    for table in (MAGIC, MAGIC_OTHER):
        for prefix, mime in table.items():
            if data.startswith(prefix):
                return mime
    return "image/png"  # what the AIGNE OpenAI adapter assumes as well


def _tool_calls_in(raw: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad_request(f"{where} must be an array", param=where)
    out = []
    for i, call in enumerate(raw):
        call = need_object(call, f"{where}[{i}]")
        fn = need_object(call.get("function"), f"{where}[{i}].function")
        name, args = fn.get("name"), fn.get("arguments", {})
        if not isinstance(name, str) or not isinstance(call.get("id"), str):
            raise bad_request(f"{where}[{i}] needs a string id and function.name", param=f"{where}[{i}]")
        if not isinstance(args, (dict, str)):
            raise bad_request(f"{where}[{i}].function.arguments must be an object", param=f"{where}[{i}]")
        text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        out.append({"id": call["id"], "type": "function", "function": {"name": name, "arguments": text}})
    return out


def tools_in(raw: Any, where: str = "input.tools") -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request(f"{where} must be an array", param=where)
    out = []
    for i, tool in enumerate(raw):
        fn = need_object(need_object(tool, f"{where}[{i}]").get("function"), f"{where}[{i}].function")
        if not isinstance(fn.get("name"), str) or not fn["name"]:
            raise bad_request(f"{where}[{i}].function.name must be a string", param=f"{where}[{i}]")
        spec: dict[str, Any] = {"name": fn["name"]}
        if isinstance(fn.get("description"), str):
            spec["description"] = fn["description"]
        parameters = fn.get("parameters", {"type": "object", "properties": {}})
        spec["parameters"] = need_object(parameters, f"{where}[{i}].function.parameters")
        out.append({"type": "function", "function": spec})
    return out


def tool_choice_in(raw: Any, where: str = "input.toolChoice") -> Any:
    if raw in TOOL_CHOICES:
        return raw
    if isinstance(raw, dict) and isinstance((raw.get("function") or {}).get("name"), str):
        return {"type": "function", "function": {"name": raw["function"]["name"]}}
    raise bad_request(
        f"{where} must be auto, none, required or {{type:'function', function:{{name}}}}", param=where
    )


def response_format_in(raw: Any, where: str = "input.responseFormat") -> dict[str, Any] | None:
    if raw is None:
        return None
    fmt = need_object(raw, where)
    kind = fmt.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind != "json_schema":
        raise bad_request(f"{where}.type must be text, json_schema or json_object", param=where)
    spec = need_object(fmt.get("jsonSchema"), f"{where}.jsonSchema")
    schema = need_object(spec.get("schema"), f"{where}.jsonSchema.schema")
    out: dict[str, Any] = {
        "name": spec.get("name") if isinstance(spec.get("name"), str) else "output",
        "schema": schema,
    }
    if isinstance(spec.get("description"), str):
        out["description"] = spec["description"]
    if isinstance(spec.get("strict"), bool):
        out["strict"] = spec["strict"]
    return {"type": "json_schema", "json_schema": out}


def _model_options(options: dict[str, Any], payload: dict[str, Any]) -> None:
    where = "input.modelOptions"
    for key, target in NUMBER_OPTIONS.items():
        value = opt_number(options, key, where)
        if value is not None:
            payload[target] = value
    max_tokens = opt_number(options, "maxTokens", where)
    if max_tokens is not None:
        payload["max_tokens"] = int(max_tokens)
    parallel = options.get("parallelToolCalls")
    if isinstance(parallel, bool) and payload.get("tools"):
        payload["parallel_tool_calls"] = parallel
    effort = reasoning_effort(options.get("reasoningEffort"))
    if effort:
        payload["reasoning_effort"] = effort
    if isinstance(options.get("modalities"), list):
        payload["modalities"] = options["modalities"]


def reasoning_effort(value: Any) -> str | None:
    """A token budget or a level; budgets map to levels as the AIGNE OpenAI adapter maps them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    if value > 5000:
        return "high"
    if value > 1000:
        return "medium"
    return "low" if value > 500 else "minimal"
