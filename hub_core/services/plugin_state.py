"""Enable/disable state of plugins, stored in the database so every hub instance applies it."""

from __future__ import annotations

from hub_core.config import Settings
from hub_core.db import models as m
from hub_core.errors import not_found
from hub_core.plugins import PluginHost
from hub_core.state import bump_generation


async def set_plugin_enabled(settings: Settings, host: PluginHost, name: str, enabled: bool) -> str:
    resolved = host.resolve_name(name)
    if resolved is None:
        raise not_found(f"Plugin {name!r} not found; see `aigne-hub plugins list`")
    await m.PluginState.update_or_create(name=resolved, defaults={"enabled": enabled})
    await bump_generation(settings)
    return resolved


async def disabled_plugins() -> set[str]:
    return {p.name for p in await m.PluginState.filter(enabled=False)}
