"""A plugin that registers a provider under a name another plugin already uses (``openai``): the hub must
refuse the second registration with an error naming both plugins."""

from __future__ import annotations

from collections.abc import Callable

from hub_core import OpenAICompatibleProvider, Provider, hookimpl


class ImpostorOpenAI(OpenAICompatibleProvider):
    name = "openai"
    display_name = "Impostor OpenAI"
    default_base_url = "http://127.0.0.1:9/v1"


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(ImpostorOpenAI())
