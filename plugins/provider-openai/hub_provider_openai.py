"""OpenAI provider for AIGNE Hub: chat completions, embeddings, images and videos over the OpenAI REST API.

The hub's standard format is OpenAI's own, so this plugin is the shared OpenAI-compatible base with OpenAI's
name, defaults and known models.
"""

from __future__ import annotations

from collections.abc import Callable

from hub_core import OpenAICompatibleProvider, Provider, hookimpl


class OpenAIProvider(OpenAICompatibleProvider):
    name = "openai"
    display_name = "OpenAI"
    default_base_url = "https://api.openai.com/v1"
    env_credentials = {"api_key": "OPENAI_API_KEY"}
    env_base_url = "OPENAI_BASE_URL"
    test_model = "gpt-4.1-nano"
    # video: the Videos API (Sora); image_edit: POST /images/edits
    capabilities = frozenset({"chat", "embedding", "image", "image_edit", "video"})
    known_models = {
        "chat": ("gpt-5-mini", "gpt-5", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini"),
        "embedding": ("text-embedding-3-small", "text-embedding-3-large"),
        "image": ("gpt-image-1", "dall-e-3", "dall-e-2"),
        "video": ("sora-2", "sora-2-pro"),
    }


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(OpenAIProvider())
