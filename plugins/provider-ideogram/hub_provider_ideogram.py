"""Ideogram provider for AIGNE Hub: image generation with Ideogram 3.0 (``POST /v1/ideogram-v3/generate``).

The hub's standard image request (OpenAI's ``/v1/images/generations``) becomes Ideogram's multipart form:
``n`` → ``num_images``, ``size`` → ``resolution`` when Ideogram 3.0 renders exactly that size, else the
nearest ``aspect_ratio``; the model name (``ideogram-v3-turbo`` / ``-quality``) or OpenAI's ``quality``
picks the ``rendering_speed``; Ideogram's own fields (``negative_prompt``, ``seed``, ``style_type``,
``magic_prompt``, ``style_codes``, ``color_palette`` ...) pass through. The key goes in the ``Api-Key``
header. Answers become OpenAI's images list with Ideogram's (temporary) image URLs and its rewritten prompt
as ``revised_prompt``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from hub_core import API_KEY_SCHEMA, Credential, HubError, Provider, Route, UpstreamRequest, Usage, hookimpl
from hub_core.providers import (
    NormalizedResponse,
    Normalizer,
    bad_request,
    form_data,
    images_response,
    load_json_object,
    upstream_message,
)

GENERATE_PATH = "/ideogram-v3/generate"
MAX_IMAGES = 8
SPEEDS = {"flash": "FLASH", "turbo": "TURBO", "default": "DEFAULT", "quality": "QUALITY"}
#: OpenAI's ``quality`` values → Ideogram's rendering speed (when the model name does not pick one)
QUALITY_SPEEDS = {
    "low": "TURBO",
    "medium": "DEFAULT",
    "standard": "DEFAULT",
    "high": "QUALITY",
    "hd": "QUALITY",
}
#: Ideogram 3.0's aspect ratios (width x height)
RATIOS = (
    *("1x3", "3x1", "1x2", "2x1", "9x16", "16x9", "10x16", "16x10"),
    *("2x3", "3x2", "3x4", "4x3", "4x5", "5x4", "1x1"),
)
#: the exact sizes Ideogram 3.0 renders (``resolution``); other sizes go as the nearest aspect ratio
_RESOLUTION_TABLE = (
    "512x1536 576x1408 576x1472 576x1536 640x1344 640x1408 640x1472 640x1536 704x1152 704x1216 704x1280 "
    "704x1344 704x1408 704x1472 736x1312 768x1088 768x1216 768x1280 768x1344 800x1280 832x960 832x1024 "
    "832x1088 832x1152 832x1216 832x1248 864x1152 896x960 896x1024 896x1088 896x1120 896x1152 960x832 "
    "960x896 960x1024 960x1088 1024x832 1024x896 1024x960 1024x1024 1088x768 1088x832 1088x896 1088x960 "
    "1120x896 1152x704 1152x832 1152x864 1152x896 1216x704 1216x768 1216x832 1248x832 1280x704 1280x768 "
    "1280x800 1312x736 1344x640 1344x704 1344x768 1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 "
    "1536x512 1536x576 1536x640"
)
RESOLUTIONS = frozenset(_RESOLUTION_TABLE.split())
#: Ideogram's own request fields, passed through when the client sends them (``extra_body`` in the SDK)
PASSTHROUGH = (
    "negative_prompt",
    "seed",
    "style_type",
    "magic_prompt",
    "style_preset",
    "style_codes",
    "color_palette",
    "rendering_speed",
    "aspect_ratio",
    "resolution",
)


def generate_url(base_url: str) -> str:
    """The generate endpoint from a base URL in any of its forms: the API root (``https://api.ideogram.ai/v1``),
    the bare host, or the whole endpoint (the original hub's admin form stores that)."""
    base = base_url.rstrip("/")
    if base.endswith("/generate"):
        return base
    if urlsplit(base).path in ("", "/"):
        return base + "/v1" + GENERATE_PATH
    return base + GENERATE_PATH


def rendering_speed(model: str, quality: Any) -> str | None:
    suffix = model.rsplit("-", 1)[-1].lower()
    if suffix in SPEEDS:
        return SPEEDS[suffix]
    return QUALITY_SPEEDS.get(str(quality).lower()) if quality is not None else None


def aspect_ratio(width: int, height: int) -> str:
    wanted = width / max(1, height)

    def distance(name: str) -> float:
        w, h = (int(x) for x in name.split("x"))
        return abs(math.log((w / h) / wanted))

    return min(RATIOS, key=distance)


def size_fields(size: Any) -> dict[str, str]:
    """OpenAI's ``WxH`` (or ``auto``) → ``resolution`` if Ideogram renders that size, else ``aspect_ratio``"""
    match = re.fullmatch(r"(\d+)x(\d+)", str(size or "").strip())
    if not match or not int(match.group(1)) or not int(match.group(2)):
        return {}
    if match.group(0) in RESOLUTIONS:
        return {"resolution": match.group(0)}
    return {"aspect_ratio": aspect_ratio(int(match.group(1)), int(match.group(2)))}


def form_fields(payload: dict[str, Any], model: str) -> list[tuple[str, str]]:
    """The multipart fields, in order; lists (``style_codes``) repeat their field, objects go as JSON."""
    n = payload.get("n")
    if n is not None and (not isinstance(n, int) or not 1 <= n <= MAX_IMAGES):
        raise bad_request(f"Ideogram makes 1 to {MAX_IMAGES} images per request, not {n}", param="n")
    values: dict[str, Any] = {"prompt": str(payload["prompt"])}
    if speed := rendering_speed(model, payload.get("quality")):
        values["rendering_speed"] = speed
    if n:
        values["num_images"] = n
    if not {"aspect_ratio", "resolution"} & set(payload):  # the two exclude each other; explicit ones win
        values.update(size_fields(payload.get("size")))
    values.update({key: payload[key] for key in PASSTHROUGH if payload.get(key) is not None})
    fields: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, list):
            fields.extend((key, str(item)) for item in value)
        elif isinstance(value, dict):
            fields.append((key, json.dumps(value, separators=(",", ":"))))
        else:
            fields.append((key, value if isinstance(value, str) else json.dumps(value)))
    return fields


def created_epoch(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


class IdeogramNormalizer(Normalizer):
    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Ideogram")
        if not isinstance(data.get("data"), list):
            raise HubError(502, "upstream_malformed", "Ideogram sent no image list", type="upstream_error")
        items = []
        for image in data["data"]:
            if isinstance(image, dict) and image.get("url") and image.get("is_image_safe", True):
                item = {"url": image["url"]}
                if image.get("prompt"):
                    item["revised_prompt"] = image["prompt"]
                items.append(item)
        if not items:
            raise HubError(400, "content_policy_violation", "Ideogram returned no safe image for this prompt")
        self.usage, self.saw_usage = Usage(images=len(items)), True
        return NormalizedResponse(images_response(items, created_epoch(data.get("created"))), self.usage)


class IdeogramProvider(Provider):
    name = "ideogram"
    display_name = "Ideogram"
    default_base_url = "https://api.ideogram.ai/v1"
    capabilities = frozenset({"image"})
    credential_schema = API_KEY_SCHEMA
    env_credentials = {"api_key": "IDEOGRAM_API_KEY"}
    test_model = "ideogram-v3-turbo"
    known_models = {"image": ("ideogram-v3", "ideogram-v3-turbo", "ideogram-v3-quality")}

    def build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        body, content_type = form_data(form_fields(payload, route.model))
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        return UpstreamRequest("POST", generate_url(route.base_url), headers=headers, body=body)

    def apply_credential(self, upstream: UpstreamRequest, credential: Credential | None) -> None:
        if credential is not None and credential.api_key:
            upstream.headers["Api-Key"] = credential.api_key

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        if kind == "image":
            return IdeogramNormalizer()
        return super().normalizer(kind, stream, route, payload)

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        message = error_message(body)
        if status in (400, 422) and "safety" in message.lower():
            return HubError(400, "content_policy_violation", f"Ideogram refused the prompt: {message}")
        return super().map_error(status, json.dumps({"message": message}).encode(), headers)


def error_message(body: bytes) -> str:
    """Ideogram answers ``{"error": "..."}``; request validation answers ``{"detail": ...}``."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and "detail" in data and "error" not in data:
        detail = data["detail"]
        return detail if isinstance(detail, str) else json.dumps(detail)[:1000]
    return upstream_message(body)


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(IdeogramProvider())
