"""DeepSeek provider for AIGNE Hub: chat completions over DeepSeek's OpenAI-compatible API.

DeepSeek's quirks: reasoning models answer with ``reasoning_content`` next to ``content`` (in messages and
stream deltas; passed through unchanged), cache hits are reported as ``prompt_cache_hit_tokens`` /
``prompt_cache_miss_tokens`` (older answers have no ``prompt_tokens_details``), and an empty balance is an
HTTP 402, which is the hub's problem, not the caller's (`Provider.map_error`'s default says so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub_core import OpenAICompatibleProvider, Provider, Usage, hookimpl, usage_from_openai


class DeepSeekProvider(OpenAICompatibleProvider):
    name = "deepseek"
    display_name = "DeepSeek"
    default_base_url = "https://api.deepseek.com/v1"
    capabilities = frozenset({"chat"})
    env_credentials = {"api_key": "DEEPSEEK_API_KEY"}
    test_model = "deepseek-chat"
    known_models = {"chat": ("deepseek-chat", "deepseek-reasoner")}

    def read_usage(self, data: dict[str, Any] | None) -> Usage:
        usage = usage_from_openai(data)
        if data and not usage.cached_input_tokens:
            usage.cached_input_tokens = int(data.get("prompt_cache_hit_tokens") or 0)
        return usage


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(DeepSeekProvider())
