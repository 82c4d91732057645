"""Doubao provider for AIGNE Hub: chat, embeddings and Seedream images over Volcengine Ark's OpenAI-style API.

Ark's quirks: models are named with a version suffix (``doubao-seed-1-6-250615``) or by an inference endpoint
id (``ep-...``); reasoning models answer with ``reasoning_content`` (passed through) and accept Ark's
``thinking`` switch in the body; Seedream image generation has no ``n`` (several images are asked for with
``sequential_image_generation``) and puts a watermark on images unless ``watermark: false`` is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub_core import OpenAICompatibleProvider, Provider, Route, UpstreamRequest, hookimpl


class DoubaoProvider(OpenAICompatibleProvider):
    name = "doubao"
    display_name = "Doubao"
    default_base_url = "https://ark.cn-beijing.volces.com/api/v3"
    capabilities = frozenset({"chat", "embedding", "image"})
    env_credentials = {"api_key": "DOUBAO_API_KEY"}
    test_model = "doubao-seed-1-8-251228"
    known_models = {
        "chat": (
            "doubao-seed-1-8-251228",
            "doubao-seed-1-6-250615",
            "doubao-seed-1-6-flash-250828",
            "doubao-1-5-pro-32k-250115",
        ),
        "embedding": ("doubao-embedding-text-240715", "doubao-embedding-large-text-250515"),
        "image": ("doubao-seedream-4-0-250828", "doubao-seedream-3-0-t2i-250415"),
    }

    def build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        body = {k: v for k, v in payload.items() if k not in ("n", "quality", "style")}
        n = int(payload.get("n") or 1)
        if n > 1 and "sequential_image_generation" not in body:
            # Seedream 4 makes a set of related images instead of n independent ones; it may make fewer
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": n}
        return super().build_image(body, route, stream)


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(DoubaoProvider())
