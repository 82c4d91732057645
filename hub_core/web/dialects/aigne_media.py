"""AIGNE image, video and embedding requests (``/api/v2/image``, ``/image/generations``, ``/video``,
``/embeddings``) to standard requests (OpenAI Images, Videos and Embeddings), and their answers back."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from hub_core.errors import HubError, bad_request
from hub_core.providers.image_edit import INPUT_IMAGES, INPUT_MASK, MAX_INPUT_IMAGES, InputImage
from hub_core.web.dialects.aigne import envelope, need_object, opt_string, resolve_model
from hub_core.web.media import EXTENSIONS, sniff

DEFAULT_IMAGE_MODEL = "openai/dall-e-2"
DEFAULT_VIDEO_MODEL = "openai/sora-2"
OUTPUT_TYPES = ("url", "file", "local")
#: image options passed to the upstream when given, from ``input`` or ``input.modelOptions``
IMAGE_OPTIONS = ("size", "quality", "style", "background", "moderation", "output_format", "user")
B64_FORMATS = ("b64_json", "base64", "b64Json")
DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[^;,]*)*);base64,", re.IGNORECASE)
NO_FETCH = (
    "this hub does not download images from URLs (fetching arbitrary URLs would let callers reach internal "
    "hosts); send the image inline: {type:'file', data:<base64>, mimeType} or a data: URL"
)


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
    model = resolve_model(body, inp, DEFAULT_IMAGE_MODEL)
    options = {**need_object(inp.get("modelOptions"), "input.modelOptions", required=False), **inp}
    payload = image_payload(model, _prompt(inp, "input"), _count(inp.get("n"), "input.n"), options)
    add_input_images(payload, inp.get("image"), inp.get("mask"), "input.")
    return MediaCall(model, payload, _output(inp.get("outputFileType"), "input.outputFileType"))


def parse_image_generations(body: dict[str, Any]) -> MediaCall:
    """The flat form: ``{model, prompt, n?, size?, responseFormat?|response_format?, outputFileType?}``."""
    model = opt_string(body, "model", "body") or DEFAULT_IMAGE_MODEL
    fmt = body.get("responseFormat", body.get("response_format"))
    if fmt is not None and fmt not in (*B64_FORMATS, "url"):
        raise bad_request("responseFormat must be url or b64_json", param="responseFormat")
    output = "file" if fmt in B64_FORMATS else _output(body.get("outputFileType"), "outputFileType")
    payload = image_payload(model, _prompt(body, "body"), _count(body.get("n"), "n"), body)
    add_input_images(payload, body.get("image"), body.get("mask"), "")
    return MediaCall(model, payload, output)


# --- image editing: input images ------------------------------------------------------------------------


def add_input_images(payload: dict[str, Any], images: Any, mask: Any, prefix: str) -> None:
    """Make an image request an edit when it carries input images (and maybe a mask); empty means none."""
    if images in (None, "", []):
        return
    items = images if isinstance(images, list) else [images]
    where = f"{prefix}image"
    if len(items) > MAX_INPUT_IMAGES:
        raise bad_request(f"{where} may hold at most {MAX_INPUT_IMAGES} images", param=where)
    many = isinstance(images, list)
    payload[INPUT_IMAGES] = [
        input_image(item, f"{where}[{i}]" if many else where, i) for i, item in enumerate(items)
    ]
    if mask not in (None, ""):
        payload[INPUT_MASK] = input_image(mask, f"{prefix}mask", 0, name="mask")


def input_image(item: Any, where: str, index: int, name: str = "image") -> InputImage:
    """One input image: a FileContent part ``{type:'file', data, mimeType?, filename?}``, a data: URL, or
    plain base64. URL and local parts are refused: the hub has no safe way to fetch them."""
    mime = filename = None
    if isinstance(item, dict):
        kind = item.get("type")
        if kind == "url" and isinstance(item.get("url"), str) and item["url"].startswith("data:"):
            item = item["url"]
        elif kind == "url":
            raise bad_request(f"{where} is a URL: {NO_FETCH}", param=where, code="unsupported_image_source")
        elif kind == "local":
            raise bad_request(
                f"{where} is a local file path, which the hub cannot read; send the image inline as "
                "{type:'file', data:<base64>, mimeType} or a data: URL",
                param=where,
                code="unsupported_image_source",
            )
        elif kind in ("file", None) and isinstance(item.get("data"), str):
            mime = item.get("mimeType") if isinstance(item.get("mimeType"), str) else None
            filename = item.get("filename") if isinstance(item.get("filename"), str) else None
            item = item["data"]
        else:
            raise bad_request(
                f"{where} must be a file part {{type:'file', data:<base64>, mimeType}}, a data: URL or "
                "base64",
                param=where,
            )
    if not isinstance(item, str):
        raise bad_request(f"{where} must be a base64 string, a data: URL or a file part", param=where)
    if item.startswith(("http://", "https://")):
        raise bad_request(f"{where} is a URL: {NO_FETCH}", param=where, code="unsupported_image_source")
    match = DATA_URL.match(item)
    if match:
        mime = mime or match.group(1)
        item = item[match.end() :]
    elif item.startswith("data:"):
        raise bad_request(f"{where} must be a base64 data: URL (data:<type>;base64,...)", param=where)
    return image_from_bytes(_decode_input(item, where), mime, filename, name, index)


def image_from_bytes(
    data: bytes, mime: str | None, filename: str | None, name: str, index: int
) -> InputImage:
    """An input image's type from its bytes, else the caller's `mime` when it is an image type; a file name
    when the caller gave none (``image-1.png``)."""
    given = mime.lower() if mime and mime.lower().startswith("image/") else "image/png"
    mime = sniff(data, default=given)
    return InputImage(data, mime, filename or f"{name}-{index + 1}.{EXTENSIONS.get(mime, 'png')}")


def _decode_input(text: str, where: str) -> bytes:
    compact = "".join(text.split())  # some encoders wrap base64 lines
    compact += "=" * (-len(compact) % 4)
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(f"{where} is not valid base64", param=where, code="invalid_image") from exc
    if not data:
        raise bad_request(f"{where} is empty", param=where, code="invalid_image")
    return data


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
