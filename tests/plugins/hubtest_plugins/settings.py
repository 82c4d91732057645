"""A plugin with settings (``config_schema``, with a secret field) for the plugin-settings tests; it reads
them per call through `PluginHost.config`, so a change made on any hub instance applies without a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart import Blueprint

from hub_core import hookimpl
from hub_core.web import current_hub

config_schema: dict[str, Any] = {
    "type": "object",
    "properties": {
        "greeting": {
            "type": "string",
            "title": "Greeting",
            "description": "Said to every caller.",
            "maxLength": 40,
        },
        "mode": {"type": "string", "enum": ["fast", "careful"], "default": "fast", "title": "Mode"},
        "limit": {"type": "integer", "title": "Limit", "default": 10, "minimum": 1},
        "ratio": {"type": "number", "title": "Ratio"},
        "verbose": {"type": "boolean", "title": "Verbose", "default": False},
        # a secret: stored encrypted, shown masked, handed to the plugin in clear
        "api_token": {"type": "string", "title": "API token", "writeOnly": True, "minLength": 8},
    },
    "required": ["greeting"],
}


@hookimpl
def register_routes(register: Callable[[Blueprint], None]) -> None:
    bp = Blueprint("hubtest_settings", __name__, url_prefix="/hubtest-settings")

    @bp.get("/greeting")
    async def greeting() -> dict[str, Any]:
        # read per request, so a change saved on any instance applies without a restart
        return current_hub().host.config("hubtest_settings")

    register(bp)
