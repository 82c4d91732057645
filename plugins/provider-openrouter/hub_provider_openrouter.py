"""OpenRouter provider for AIGNE Hub: chat completions over OpenRouter's OpenAI-compatible API.

OpenRouter's quirks: model ids are ``vendor/model`` (``openrouter/openai/gpt-4o`` routes to OpenRouter's
``openai/gpt-4o``; a bare ``openrouter/gpt-4o`` gets its vendor prefix inferred); apps identify themselves
with the ``HTTP-Referer`` and ``X-Title`` headers (per provider record: ``config.httpReferer`` and
``config.appTitle``); usage always carries ``cost`` and cache read/write tokens (passed through to the
client, cache tokens logged); a mid-stream failure is a chunk with an ``error`` member; HTTP 402 means the
hub's OpenRouter account is out of credits.
"""

from __future__ import annotations

from collections.abc import Callable

from hub_core import OpenAICompatibleProvider, Provider, Route, hookimpl

DEFAULT_REFERER = "https://www.aigne.io/hub"
DEFAULT_TITLE = "AIGNE Hub"

#: bare model name prefix -> OpenRouter vendor (same inference as the original hub's find-provider table)
VENDOR_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("gpt-", "o1", "o3", "o4", "chatgpt-", "dall-e-", "text-embedding", "codex-"), "openai"),
    (("claude",), "anthropic"),
    (("gemini", "gemma"), "google"),
    (("grok",), "x-ai"),
    (("deepseek",), "deepseek"),
    (("llama",), "meta-llama"),
    (("mistral", "mixtral", "codestral", "ministral"), "mistralai"),
    (("qwen", "qwq"), "qwen"),
    (("phi-",), "microsoft"),
)


def openrouter_model_id(model: str) -> str:
    """``gpt-4o`` → ``openai/gpt-4o``; ids that already name a vendor are left alone."""
    if "/" in model:
        return model
    lowered = model.lower()
    for prefixes, vendor in VENDOR_PREFIXES:
        if lowered.startswith(prefixes):
            return f"{vendor}/{model}"
    return model


class OpenRouterProvider(OpenAICompatibleProvider):
    name = "openrouter"
    display_name = "OpenRouter"
    default_base_url = "https://openrouter.ai/api/v1"
    capabilities = frozenset({"chat"})
    env_credentials = {"api_key": "OPEN_ROUTER_API_KEY"}
    test_model = "openai/gpt-4o-mini"
    known_models = {
        "chat": (
            "openai/gpt-4o-mini",
            "openai/gpt-4o",
            "anthropic/claude-sonnet-4",
            "google/gemini-2.5-flash",
            "deepseek/deepseek-chat",
            "meta-llama/llama-3.3-70b-instruct",
        )
    }

    def upstream_model(self, route: Route) -> str:
        return openrouter_model_id(route.model)

    def request_headers(self, route: Route) -> dict[str, str]:
        config = route.config or {}
        return {
            "HTTP-Referer": str(config.get("httpReferer") or DEFAULT_REFERER),
            "X-Title": str(config.get("appTitle") or DEFAULT_TITLE),
        }


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(OpenRouterProvider())
