"""Poe provider for AIGNE Hub: chat completions with Poe bots over Poe's OpenAI-compatible API.

Poe's quirks: the model is a Poe bot name (``GPT-5-mini``, ``Claude-Sonnet-4``; Poe matches them
case-insensitively), private bots are not served, and HTTP 402 means the hub's Poe account has no compute
points left.
"""

from __future__ import annotations

from collections.abc import Callable

from hub_core import OpenAICompatibleProvider, Provider, hookimpl


class PoeProvider(OpenAICompatibleProvider):
    name = "poe"
    display_name = "Poe"
    default_base_url = "https://api.poe.com/v1"
    capabilities = frozenset({"chat"})
    env_credentials = {"api_key": "POE_API_KEY"}
    test_model = "gpt-5-mini"
    known_models = {
        "chat": ("GPT-5-mini", "GPT-5", "GPT-4o", "Claude-Sonnet-4", "Gemini-2.5-Flash", "Grok-4"),
    }


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(PoeProvider())
