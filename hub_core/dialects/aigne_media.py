"""AIGNE image, video and embedding requests (``/api/v2/image``, ``/image/generations``, ``/video``,
``/embeddings``) to standard requests (OpenAI Images, Videos and Embeddings), and their answers back."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from hub_core.dialects.aigne import envelope, need_object, opt_string, resolve_model
from hub_core.errors import HubError, bad_request

DEFAULT_IMAGE_MODEL = "openai/dall-e-2"
DEFAULT_VIDEO_MODEL = "openai/sora-2"
OUTPUT_TYPES = ("url", "file", "local")
#: image options passed to the upstream when given, from ``input`` or ``input.modelOptions``
IMAGE_OPTIONS = ("size", "quality", "style", "background", "moderation", "output_format", "user")
B64_FORMATS = ("b64_json", "base64", "b64Json")


@dataclass(slots=True)
class MediaCall:
    model: str
    payload: dict[str, Any]
    output: str  # "url" (served by the hub) or "file" (inline base64)


def bare_model(model: str) -> str:
    return model.rsplit("/", 1)[-1]


def _prompt(obj: dict[str, Any], where: str) -> str:
    prompt = obj.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise bad_request(f"{where}.prompt must be a non-empty string", param=f"{where}.prompt")
    return prompt


def _count(value: Any, where: str) -> int:
    if value is None:
        return 1
    if type(value) is not int or not 1 <= value <= 10:
        raise bad_request(f"{where} must be an integer between 1 and 10", param=where)
    return value


def _output(value: Any, where: str) -> str:
    if value is None:
        return "url"
    if value not in OUTPUT_TYPES:
        raise bad_request(f"{where} must be url, file or local", param=where)
    return "file" if value == "file" else "url"  # "local" means a file the caller can reach: a URL


def image_payload(model: str, prompt: str, n: int, options: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": model, "prompt": prompt, "n": n}
    for key in IMAGE_OPTIONS:
        if isinstance(options.get(key), str):
            payload[key] = options[key]
    if not bare_model(model).startswith("gpt-image"):
        # the hub stores the bytes itself; GPT Image models always answer base64 and reject this field
        payload["response_format"] = "b64_json"
    return payload


def parse_image(body: dict[str, Any]) -> MediaCall:
    """``{input: {prompt, n?, size?, ..., outputFileType?, modelOptions: {model, ...}}}``."""
    inp, _options = envelope(body)
    if inp.get("image"):
        raise bad_request("Image editing (input.image) is not supported by this hub yet", param="input.image")
    model = resolve_model(body, inp, DEFAULT_IMAGE_MODEL)
    options = {**need_object(inp.get("modelOptions"), "input.modelOptions", required=False), **inp}
    payload = image_payload(model, _prompt(inp, "input"), _count(inp.get("n"), "input.n"), options)
    return MediaCall(model, payload, _output(inp.get("outputFileType"), "input.outputFileType"))


def parse_image_generations(body: dict[str, Any]) -> MediaCall:
    """The flat form: ``{model, prompt, n?, size?, responseFormat?|response_format?, outputFileType?}``."""
    model = opt_string(body, "model", "body") or DEFAULT_IMAGE_MODEL
    if body.get("image"):
        raise bad_request("Image editing (image) is not supported by this hub yet", param="image")
    fmt = body.get("responseFormat", body.get("response_format"))
    if fmt is not None and fmt not in (*B64_FORMATS, "url"):
        raise bad_request("responseFormat must be url or b64_json", param="responseFormat")
    output = "file" if fmt in B64_FORMATS else _output(body.get("outputFileType"), "outputFileType")
    payload = image_payload(model, _prompt(body, "body"), _count(body.get("n"), "n"), body)
    return MediaCall(model, payload, output)


def images_of(answer: dict[str, Any]) -> list[tuple[bytes | None, str | None, str | None]]:
    """(bytes, upstream URL, revised prompt) per image of a standard images answer."""
    out = []
    for item in answer.get("data") or []:
        if not isinstance(item, dict):
            continue
        data = _decode(item["b64_json"]) if isinstance(item.get("b64_json"), str) else None
        url = item.get("url") if isinstance(item.get("url"), str) else None
        if data is not None or url is not None:
            out.append((data, url, item.get("revised_prompt")))
    return out


def _decode(data: str) -> bytes:
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError) as exc:
        raise HubError(
            502, "upstream_malformed", "Upstream sent an image that is not base64", type="upstream_error"
        ) from exc


def parse_video(body: dict[str, Any]) -> MediaCall:
    """``{input: {prompt, model?, seconds?, size?, image?, outputFileType?, modelOptions?}}``."""
    inp, _options = envelope(body)
    model = resolve_model(body, inp, DEFAULT_VIDEO_MODEL)
    options = {**need_object(inp.get("modelOptions"), "input.modelOptions", required=False), **inp}
    payload: dict[str, Any] = {"model": model, "prompt": _prompt(inp, "input")}
    for key in ("seconds", "size"):
        value = options.get(key)
        if (value is not None and not isinstance(value, str | int)) or isinstance(value, bool):
            raise bad_request(f"input.{key} must be a string", param=f"input.{key}")
        if value is not None:
            payload[key] = str(value)
    image = inp.get("image")
    if isinstance(image, list):
        image = image[0] if image else None
    if image is not None:
        image = need_object(image, "input.image")
        if image.get("type") != "file" or not isinstance(image.get("data"), str):
            raise bad_request(
                "input.image must be a file part {type:'file', data:<base64>}", param="input.image"
            )
        payload["input_reference"] = {
            "data": image["data"],
            "mimeType": image.get("mimeType"),
            "filename": image.get("filename"),
        }
    return MediaCall(model, payload, _output(inp.get("outputFileType"), "input.outputFileType"))


@dataclass(slots=True)
class EmbeddingCall:
    model: str
    payload: dict[str, Any]


def parse_embeddings(body: dict[str, Any]) -> EmbeddingCall:
    """``{input: {input: str|str[], modelOptions: {model, dimensions?}}}``, or the flat ``{model, input}`` the
    original hub's playground sends."""
    if isinstance(body.get("input"), dict):
        inp, _options = envelope(body)
        where = "input.input"
        model = resolve_model(body, inp, "")
        options = {**need_object(inp.get("modelOptions"), "input.modelOptions", required=False), **inp}
        texts = inp.get("input")
    else:
        where = "input"
        model = opt_string(body, "model", "body") or ""
        options, texts = body, body.get("input")
    if not model:
        raise bad_request(
            "Model parameter is required, e.g. input.modelOptions.model = 'openai/text-embedding-3-small'",
            param="model",
        )
    if isinstance(texts, str):
        texts = [texts] if texts else None
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise bad_request(f"{where} must be a non-empty string or an array of non-empty strings", param=where)
    payload: dict[str, Any] = {"model": model, "input": texts, "encoding_format": "float"}
    dims = options.get("dimensions")
    if dims is not None:
        if type(dims) is not int or dims < 1:
            raise bad_request("dimensions must be a positive integer", param="dimensions")
        payload["dimensions"] = dims
    return EmbeddingCall(model, payload)


def vectors_of(answer: dict[str, Any]) -> list[list[float]]:
    items = sorted(
        (d for d in answer.get("data") or [] if isinstance(d, dict)), key=lambda d: d.get("index", 0)
    )
    return [d.get("embedding") or [] for d in items]
