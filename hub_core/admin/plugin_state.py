"""Enable/disable state of plugins, stored in the database so every hub instance applies it."""

from __future__ import annotations

from hub_core.config import Settings
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import HubError, not_found
from hub_core.infra.plugin_host import PluginHost
from hub_core.runtime.state import bump_generation


async def set_plugin_enabled(
    settings: Settings, host: PluginHost, name: str, enabled: bool, *, actor: audit.Actor | None = None
) -> str:
    resolved = host.resolve_name(name)
    if resolved is None:
        raise not_found(f"Plugin {name!r} not found; see `aigne-hub plugins list`")
    if enabled:
        _refuse_enabling_a_plugin_that_cannot_run(host, resolved)
    else:
        _refuse_locking_everyone_out(host, resolved)
    row = await m.PluginState.get_or_none(name=resolved)
    before = {"enabled": row.enabled if row is not None else host.is_enabled(resolved)}
    await m.PluginState.update_or_create(name=resolved, defaults={"enabled": enabled})
    action = "plugin.enable" if enabled else "plugin.disable"
    await audit.record(actor, action, "plugin", resolved, before=before, after={"enabled": enabled})
    await bump_generation(settings)
    return resolved


def _refuse_enabling_a_plugin_that_cannot_run(host: PluginHost, name: str) -> None:
    """A plugin that failed to load (or is left out by ``AIGNE_HUB_LOAD_PLUGINS``) stays off whatever is
    stored, so saying "enabled" would be a lie: refuse, with the reason."""
    info = host.infos[name]
    if info.status == "failed":
        raise HubError(
            409,
            "plugin_failed",
            f"Plugin {name!r} failed to load and cannot be enabled: {info.error}. Fix its installation and "
            "restart the hub.",
        )
    if info.status == "excluded":
        raise HubError(
            409,
            "plugin_excluded",
            f"Plugin {name!r} is not loaded ({info.error}) and cannot be enabled; add it to "
            "AIGNE_HUB_LOAD_PLUGINS and restart the hub.",
        )


def _refuse_locking_everyone_out(host: PluginHost, name: str) -> None:
    """Disabling the only plugin that can authenticate callers would refuse every key and session, the
    admin's own included, until someone re-enabled it from a shell on the server. An auth plugin that is
    installed but cannot authenticate anyone yet (it says so with ``can_authenticate``) does not count."""
    hook = "auth_from_request"
    if hook not in host.infos[name].hooks:
        return
    others = [
        n
        for n, i in host.infos.items()
        if n != name and i.status == "enabled" and hook in i.hooks and host.can_authenticate(n)
    ]
    if not others:
        raise HubError(
            409,
            "last_auth_plugin",
            f"Plugin {name!r} is the only one that can authenticate callers; disabling it would lock "
            "everyone out. Enable and configure another authentication plugin first.",
        )


async def disabled_plugins() -> set[str]:
    return {p.name for p in await m.PluginState.filter(enabled=False)}
