"""Enable/disable state of plugins, stored in the database so every hub instance applies it."""

from __future__ import annotations

from hub_core.config import Settings
from hub_core.db import models as m
from hub_core.errors import HubError, not_found
from hub_core.infra.plugin_host import PluginHost
from hub_core.runtime.state import bump_generation


async def set_plugin_enabled(settings: Settings, host: PluginHost, name: str, enabled: bool) -> str:
    resolved = host.resolve_name(name)
    if resolved is None:
        raise not_found(f"Plugin {name!r} not found; see `aigne-hub plugins list`")
    if not enabled:
        _refuse_locking_everyone_out(host, resolved)
    await m.PluginState.update_or_create(name=resolved, defaults={"enabled": enabled})
    await bump_generation(settings)
    return resolved


def _refuse_locking_everyone_out(host: PluginHost, name: str) -> None:
    """Disabling the only plugin that authenticates callers would refuse every key and session, the
    admin's own included, until someone re-enabled it from a shell on the server."""
    hook = "auth_from_request"
    if hook not in host.infos[name].hooks:
        return
    others = [n for n, i in host.infos.items() if n != name and i.status == "enabled" and hook in i.hooks]
    if not others:
        raise HubError(
            409,
            "last_auth_plugin",
            f"Plugin {name!r} is the only one that authenticates callers; disabling it would lock everyone "
            "out. Enable another authentication plugin first.",
        )


async def disabled_plugins() -> set[str]:
    return {p.name for p in await m.PluginState.filter(enabled=False)}
