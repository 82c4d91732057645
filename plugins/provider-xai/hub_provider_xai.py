"""xAI (Grok) provider for AIGNE Hub: chat completions and image generation over xAI's OpenAI-compatible API.

xAI's quirks: a wrong API key is answered with HTTP 400 ("Incorrect API key provided") and a flat error body
(``{"code": ..., "error": "..."}``), which the hub still treats as a refused credential; reasoning models
(grok-3-mini) stream ``reasoning_content`` (passed through); image generation takes no ``size``,
``quality`` or ``style``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub_core import HubError, OpenAICompatibleProvider, Provider, Route, UpstreamRequest, hookimpl
from hub_core.providers import upstream_auth_failed, upstream_message

#: OpenAI image parameters xAI rejects
UNSUPPORTED_IMAGE_FIELDS = ("size", "quality", "style")


class XAIProvider(OpenAICompatibleProvider):
    name = "xai"
    display_name = "xAI"
    default_base_url = "https://api.x.ai/v1"
    capabilities = frozenset({"chat", "image"})
    env_credentials = {"api_key": "XAI_API_KEY"}
    test_model = "grok-3-mini-fast"
    known_models = {
        "chat": ("grok-4", "grok-code-fast-1", "grok-3", "grok-3-mini", "grok-3-mini-fast"),
        "image": ("grok-2-image-1212",),
    }

    def build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        body = {k: v for k, v in payload.items() if k not in UNSUPPORTED_IMAGE_FIELDS}
        return super().build_image(body, route, stream)

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        message = upstream_message(body)
        if status == 400 and "api key" in message.lower():
            return upstream_auth_failed(self.display_name, message, status)
        return super().map_error(status, body, headers)


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(XAIProvider())
