"""Ideogram provider for AIGNE Hub: image generation with Ideogram 3.0 (``POST /v1/ideogram-v3/generate``).

The hub's standard image request (OpenAI's ``/v1/images/generations``) becomes Ideogram's multipart form:
``n`` → ``num_images``, ``size`` → the nearest ``aspect_ratio``, the model name picks ``rendering_speed``
(``ideogram-v3-turbo`` / ``-quality``), and Ideogram's own fields (``negative_prompt``, ``seed``,
``style_type``, ``magic_prompt`` ...) pass through. The key goes in the ``Api-Key`` header. Answers become
OpenAI's images list with the (temporary) image URLs and Ideogram's rewritten prompt as ``revised_prompt``.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hub_core import API_KEY_SCHEMA, Credential, HubError, Provider, Route, UpstreamRequest, Usage, hookimpl
from hub_core.providers.base import NormalizedResponse, Normalizer
from hub_core.providers.translate import images_response, load_json_object

GENERATE_PATH = "/v1/ideogram-v3/generate"
SPEEDS = {"turbo": "TURBO", "default": "DEFAULT", "quality": "QUALITY", "flash": "FLASH"}
#: Ideogram 3.0's aspect ratios (width x height)
RATIOS = (
    "1x3",
    "3x1",
    "1x2",
    "2x1",
    "9x16",
    "16x9",
    "10x16",
    "16x10",
    "2x3",
    "3x2",
    "3x4",
    "4x3",
    "4x5",
    "5x4",
    "1x1",
)
PASSTHROUGH = (
    "negative_prompt",
    "seed",
    "style_type",
    "magic_prompt",
    "style_preset",
    "rendering_speed",
    "aspect_ratio",
)


def generate_url(base_url: str) -> str:
    """The original hub stores the whole endpoint as the base URL; a bare host works too."""
    base = base_url.rstrip("/")
    return base if base.endswith("/generate") else base + GENERATE_PATH


def rendering_speed(model: str) -> str:
    suffix = model.rsplit("-", 1)[-1].lower()
    return SPEEDS.get(suffix, "DEFAULT")


def aspect_ratio(size: Any) -> str | None:
    match = re.fullmatch(r"(\d+)x(\d+)", str(size or ""))
    if not match:
        return None
    wanted = int(match.group(1)) / max(1, int(match.group(2)))

    def distance(name: str) -> float:
        w, h = (int(x) for x in name.split("x"))
        return abs(math.log((w / h) / wanted))

    return min(RATIOS, key=distance)


def multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "aignehub" + secrets.token_hex(12)
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def form_fields(payload: dict[str, Any], model: str) -> dict[str, str]:
    fields = {"prompt": str(payload["prompt"]), "rendering_speed": rendering_speed(model)}
    if payload.get("n"):
        fields["num_images"] = str(int(payload["n"]))
    if ratio := aspect_ratio(payload.get("size")):
        fields["aspect_ratio"] = ratio
    for key in PASSTHROUGH:
        value = payload.get(key)
        if value is not None:
            fields[key] = value if isinstance(value, str) else json.dumps(value)
    return fields


def created_epoch(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


class IdeogramNormalizer(Normalizer):
    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Ideogram")
        items = []
        for image in data.get("data") or []:
            if image.get("url") and image.get("is_image_safe", True):
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
    default_base_url = "https://api.ideogram.ai/v1/ideogram-v3/generate"
    capabilities = frozenset({"image"})
    credential_schema = API_KEY_SCHEMA
    env_credentials = {"api_key": "IDEOGRAM_API_KEY"}
    test_model = "ideogram-v3-turbo"
    known_models = {"image": ("ideogram-v3", "ideogram-v3-turbo", "ideogram-v3-quality")}

    def _build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        body, content_type = multipart(form_fields(payload, route.model))
        return UpstreamRequest(
            "POST", generate_url(route.base_url), headers={"Content-Type": content_type}, body=body
        )

    def apply_credential(self, upstream: UpstreamRequest, credential: Credential | None) -> None:
        if credential is not None and credential.api_key:
            upstream.headers["Api-Key"] = credential.api_key

    def normalizer(self, kind: str, stream: bool, route: Route) -> Normalizer:
        if kind == "image":
            return IdeogramNormalizer()
        raise HubError(400, "unsupported_operation", f"Provider {self.name} does not support {kind}")


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(IdeogramProvider())
