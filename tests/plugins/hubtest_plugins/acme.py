"""A provider plugin as a third party writes it: an OpenAI-compatible vendor whose credential schema uses
JSON-schema keywords beyond types (``pattern``, ``minLength``), which the hub must enforce."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hub_core import OpenAICompatibleProvider, Provider, hookimpl


class AcmeProvider(OpenAICompatibleProvider):
    name = "acme"
    display_name = "Acme"
    default_base_url = "http://127.0.0.1:9/v1"
    capabilities = frozenset({"chat"})
    test_model = "acme-small"
    credential_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["api_key"],
        "properties": {
            "api_key": {"type": "string", "title": "API key", "secret": True, "pattern": "^acme-"},
            "project": {"type": "string", "title": "Project", "secret": False, "minLength": 3},
        },
    }


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(AcmeProvider())
