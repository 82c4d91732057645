"""Plugin discovery, registration, enable/disable and hook calling.

`PluginHost` owns one pluggy manager. Entry points in the ``aigne_hub`` group are loaded one by one (a broken
plugin is recorded, never fatal), then the built-in default plugins. Hooks are called through
`PluginHost.first` / `each` / `observe`, which await async implementations, skip disabled plugins and apply
the failure policy of each kind of hook.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import inspect
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import CoroutineType
from typing import Any, Literal

import pluggy
import structlog
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from hub_core import hookspecs
from hub_core.errors import HubError
from hub_core.infra.schemas import schema_problem

log = structlog.get_logger("hub_core.infra.plugin_host")

ENTRY_POINT_GROUP = "aigne_hub"
CORE_DISTRIBUTION = "aigne-hub"
#: Tortoise app labels a plugin may not take: the core's tables and Tortoise's migration records
RESERVED_APP_LABELS = frozenset({"models", "_migrations"})


PluginStatus = Literal["enabled", "disabled", "failed", "excluded"]


@dataclass
class PluginInfo:
    """What `/-/plugins`, the CLI and the admin UI show about one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    builtin: bool = False
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    status: PluginStatus = "enabled"
    error: str | None = None
    #: the plugin's ``config_schema`` attribute (a JSON-schema object), if it has settings
    config_schema: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        if self.registered.get("providers"):
            return "provider"
        if self.registered.get("billing_modes"):
            return "billing"
        if self.builtin:
            return "builtin"
        dist = self.distribution or ""
        if dist.startswith("aigne-hub-provider-"):
            return "provider"
        if dist.startswith("aigne-hub-billing-"):
            return "billing"
        return "extension"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "kind": self.kind,
            "builtin": self.builtin,
            "hooks": sorted(self.hooks),
            "registered": self.registered,
            "status": self.status,
            "enabled": self.status == "enabled",
            "error": self.error,
            "configSchema": self.config_schema,
        }


class PluginHost:
    """The hub's plugins: loaded once, toggled at run time, called through the policy helpers below."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("aigne_hub")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.disabled: set[str] = set()
        self.providers: dict[str, Any] = {}
        self.provider_owner: dict[str, str] = {}
        self.billing_modes: dict[str, Any] = {}
        self.billing_owner: dict[str, str] = {}
        self.payment_providers: dict[str, Any] = {}
        self.payment_owner: dict[str, str] = {}
        self.blueprints: list[tuple[str, Any]] = []
        #: click commands by (core group name, "" for the top level; command name)
        self.commands: dict[tuple[str, str], Any] = {}
        self.command_owner: dict[tuple[str, str], str] = {}
        #: Tortoise apps of plugins: label -> (models module, migrations package)
        self.db_apps: dict[str, tuple[str, str]] = {}
        self.db_app_owner: dict[str, str] = {}
        #: stored plugin settings by plugin name (kept current by `RuntimeState.reload`)
        self.stored_config: dict[str, dict[str, Any]] = {}
        #: keyword arguments every hook call is offered (``hub``, ``settings``; see `offer`)
        self.offered: dict[str, Any] = {}
        self._impl_cache: dict[str, list[pluggy.HookImpl]] = {}
        #: per hook: the implementation list it was computed for, and whether all are plain functions
        self._sync_only: dict[str, tuple[list[pluggy.HookImpl], bool]] = {}

    # --- loading --------------------------------------------------------------------------------------

    def load_entry_points(
        self,
        entry_points: Iterable[metadata.EntryPoint] | None = None,
        allow: frozenset[str] | None = None,
    ) -> None:
        """Import every plugin of the entry-point group, isolating failures per entry point. An entry point
        that names a class is instantiated (no arguments) for this host: per-hub plugin state."""
        eps = entry_points if entry_points is not None else metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in sorted(eps, key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
                module=ep.value,
            )
            if ep.name in self.infos:
                info.status, info.error = "failed", f"duplicate plugin name {ep.name!r}"
                self.infos[f"{ep.name}@{info.distribution}"] = info
                continue
            self.infos[ep.name] = info
            if allow is not None and ep.name not in allow and (info.distribution or "") not in allow:
                info.status, info.error = "excluded", "not listed in AIGNE_HUB_LOAD_PLUGINS"
                continue
            if dist is not None and (problem := incompatibility(dist)):
                info.status, info.error = "failed", problem  # its code is not even imported
                log.error("plugin is incompatible with this hub", plugin=ep.name, error=problem)
                continue
            self._register(info, ep.load)

    def register_object(self, name: str, plugin: object) -> None:
        """Register a plugin object (or class: instantiated for this host) under `name`, as an entry point
        naming it would be: for embedding and tests (`hub_core.testing.register_plugin`)."""
        info = PluginInfo(name=name, module=getattr(plugin, "__name__", None) or type(plugin).__module__)
        if name in self.infos:
            raise ValueError(f"a plugin named {name!r} is already loaded")
        self.infos[name] = info
        self._register(info, lambda: plugin)

    def _register(self, info: PluginInfo, load: Callable[[], Any]) -> None:
        """Load, instantiate and register one plugin, isolating its failure."""
        try:
            plugin = load()
            if inspect.isclass(plugin):
                # ``module:Class``: one instance per host, so each hub in the process has its own state
                plugin = plugin()
            self.pm.register(plugin, name=info.name)
            if problem := self._unsupported(info.name) or _config_schema_problem(plugin):
                self.pm.unregister(name=info.name)
                raise TypeError(problem)
        except Exception as exc:
            info.status, info.error = "failed", _describe(exc)
            log.error("plugin failed to load", plugin=info.name, error=info.error)
            return
        info.hooks = self._hooks_of(info.name)
        info.config_schema = _config_schema(plugin)
        self._impl_cache.clear()

    def _unsupported(self, name: str) -> str | None:
        """Why a plugin cannot be used as written: an implementation of a hook the hub does not have (a typo
        would otherwise be ignored silently), or a hook wrapper (the policy helpers call implementations
        directly, so a wrapper would never run as one)."""
        plugin = self.pm.get_plugin(name)
        for caller in self.pm.get_hookcallers(plugin) or []:
            impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
            if caller.spec is None and not all(i.optionalhook for i in impls):
                return f"unknown hook {caller.name!r}; the hooks are listed in hub_core.hookspecs"
            if any(i.hookwrapper or i.wrapper for i in impls):
                return f"hook wrappers are not supported ({caller.name})"
        return None

    def register_builtin(self, name: str, plugin: object) -> None:
        """Register a default plugin; its implementations should be ``trylast`` so others can override."""
        self.pm.register(plugin, name=name)
        self.infos[name] = PluginInfo(
            name=name, builtin=True, module=type(plugin).__module__, hooks=self._hooks_of(name)
        )
        self._impl_cache.clear()

    def offer(self, **kwargs: Any) -> None:
        """Offer these keyword arguments to every hook call from now on (the hub offers ``hub`` and
        ``settings``); each implementation takes the ones it names, plus ``config``, its own settings."""
        self.offered.update(kwargs)

    def _call(self, impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
        if "config" in impl.argnames:
            kwargs = {**kwargs, "config": self.config(impl.plugin_name)}
        return impl.function(*map(kwargs.__getitem__, impl.argnames))

    def run_registrations(self, only: Iterable[str] | None = None) -> None:
        """Call the ``register_*`` hooks once (`only` those named: the command line needs just its commands
        and the plugins' tables), recording what each plugin registered."""
        every = {
            "register_providers": ("providers", self._add_provider),
            "register_billing_modes": ("billing_modes", self._add_billing_mode),
            "register_payment_providers": ("payment_providers", self._add_payment_provider),
            "register_routes": ("routes", self._add_blueprint),
            "register_commands": ("commands", self._add_command),
            "register_db_models": ("db_models", self._add_db_app),
        }
        wanted = set(every if only is None else only)
        for hook_name, (label, add) in every.items():
            if hook_name in wanted:
                self._register_each(hook_name, label, add)

    def _register_each(self, hook_name: str, label: str, add: Callable[..., str]) -> None:
        # Load order (entry points sorted by name, then the built-ins), not pluggy's LIFO call order, so that
        # of two plugins claiming one name the first loaded keeps it, whatever the names.
        loaded = {name: i for i, name in enumerate(self.infos)}
        impls = self._ordered(hook_name, include_disabled=True)
        for impl in sorted(impls, key=lambda i: loaded.get(i.plugin_name, len(loaded))):
            name = impl.plugin_name
            info = self.infos[name]
            if info.status == "failed":
                continue

            def register(*args: Any, _name: str = name, **kwargs: Any) -> None:
                key = add(_name, *args, **kwargs)
                self.infos[_name].registered.setdefault(label, []).append(key)

            try:
                self._call(impl, {**self.offered, "register": register})
            except Exception as exc:
                info.status, info.error = "failed", _describe(exc)
                log.error("plugin registration failed", plugin=name, hook=hook_name, error=info.error)

    def _add_provider(self, plugin: str, provider: Any) -> str:
        name = getattr(provider, "name", "")
        if not name:
            raise ValueError(f"plugin {plugin!r} registered a provider without a name")
        owner = self.provider_owner.get(name)
        if owner is not None and owner != plugin:
            raise ValueError(f"provider {name!r} is registered by both {owner!r} and {plugin!r}")
        self.providers[name] = provider
        self.provider_owner[name] = plugin
        return name

    def set_providers(self, plugin: str, providers: dict[str, Any]) -> list[str]:
        """Make `providers` the whole set `plugin` provides, at run time, for a plugin whose providers are
        data rather than code (the built-in ``openai_compatible``: one per stored record). A name another
        plugin registered stays theirs; returns the names refused for that reason."""
        for name in [n for n, owner in self.provider_owner.items() if owner == plugin]:
            del self.providers[name], self.provider_owner[name]
        refused = []
        for name, provider in providers.items():
            if self.provider_owner.get(name, plugin) != plugin:
                refused.append(name)
                continue
            self.providers[name] = provider
            self.provider_owner[name] = plugin
        if plugin in self.infos:
            self.infos[plugin].registered["providers"] = sorted(set(providers) - set(refused))
        return refused

    def _add_billing_mode(self, plugin: str, mode: Any) -> str:
        name = getattr(mode, "name", "")
        owner = self.billing_owner.get(name)
        if owner is not None and owner != plugin:
            raise ValueError(f"billing mode {name!r} is registered by both {owner!r} and {plugin!r}")
        self.billing_modes[name] = mode
        self.billing_owner[name] = plugin
        return name

    def _add_payment_provider(self, plugin: str, provider: Any) -> str:
        name = getattr(provider, "name", "")
        if not name:
            raise ValueError(f"plugin {plugin!r} registered a payment provider without a name")
        owner = self.payment_owner.get(name)
        if owner is not None and owner != plugin:
            raise ValueError(f"payment provider {name!r} is registered by both {owner!r} and {plugin!r}")
        self.payment_providers[name] = provider
        self.payment_owner[name] = plugin
        return name

    def _add_blueprint(self, plugin: str, blueprint: Any) -> str:
        self.blueprints.append((plugin, blueprint))
        return str(blueprint.name)

    def _add_command(self, plugin: str, command: Any, group: str | None = None) -> str:
        import click  # only here: the hub itself never needs it

        if not isinstance(command, click.Command) or not command.name:
            raise TypeError(f"plugin {plugin!r} registered {command!r}, which is not a named click command")
        key = (group or "", command.name)
        owner = self.command_owner.get(key)
        shown = " ".join(filter(None, key))
        if owner is not None and owner != plugin:
            raise ValueError(f"command {shown!r} is registered by both {owner!r} and {plugin!r}")
        self.commands[key] = command
        self.command_owner[key] = plugin
        return shown

    def _add_db_app(self, plugin: str, app_label: str, models_module: str, migrations_module: str) -> str:
        if not app_label.isidentifier() or app_label in RESERVED_APP_LABELS:
            raise ValueError(f"plugin {plugin!r} cannot use the database app label {app_label!r}")
        owner = self.db_app_owner.get(app_label)
        if owner is not None and owner != plugin:
            raise ValueError(f"database app {app_label!r} is registered by both {owner!r} and {plugin!r}")
        # Imported now, so that a typo fails this plugin at startup instead of the hub's migrations.
        importlib.import_module(models_module)
        importlib.import_module(migrations_module)
        self.db_apps[app_label] = (models_module, migrations_module)
        self.db_app_owner[app_label] = plugin
        return app_label

    def database_apps(self) -> dict[str, tuple[str, str]]:
        """The Tortoise apps of the plugins that loaded (disabled ones included: their tables stay current,
        so enabling them again needs no migration)."""
        return {
            label: modules
            for label, modules in self.db_apps.items()
            if self.infos[self.db_app_owner[label]].status != "failed"
        }

    def plugin_commands(self) -> dict[tuple[str, str], Any]:
        """The click commands of the plugins that loaded, by (core group name or "", command name)."""
        return {
            key: command
            for key, command in self.commands.items()
            if self.infos[self.command_owner[key]].status != "failed"
        }

    # --- state ----------------------------------------------------------------------------------------

    def set_disabled(self, names: Iterable[str]) -> None:
        """Apply the stored enable/disable state (takes effect for the next hook call)."""
        disabled = {n for n in names if n in self.infos}
        if disabled == self.disabled:
            return
        self.disabled = disabled
        for name, info in self.infos.items():
            if info.status in ("enabled", "disabled"):
                info.status = "disabled" if name in disabled else "enabled"
        self._impl_cache.clear()

    def config(self, name: str) -> dict[str, Any]:
        """A plugin's settings: the schema's defaults overlaid with the values an admin stored."""
        info = self.infos.get(name)
        props = ((info.config_schema if info else None) or {}).get("properties") or {}
        defaults = {k: p["default"] for k, p in props.items() if isinstance(p, dict) and "default" in p}
        return {**defaults, **self.stored_config.get(name, {})}

    def can_authenticate(self, name: str) -> bool:
        """Whether auth plugin `name` can authenticate anyone now, as the plugin itself says with an optional
        ``can_authenticate`` attribute: a bool, or a plain function taking any of ``config`` (its settings)
        and ``hub``. Without one the plugin is believed; an exception counts as "cannot" (the question is only
        asked before disabling another auth plugin, where believing a broken answer could lock everyone out).
        """
        check = getattr(self.pm.get_plugin(name), "can_authenticate", None)
        if check is None:
            return True
        if isinstance(check, bool):
            return check
        offered = {**self.offered, "config": self.config(name)}
        try:
            names = inspect.signature(check).parameters
            return bool(check(**{k: v for k, v in offered.items() if k in names}))
        except Exception as exc:
            log.error("can_authenticate failed", plugin=name, error=_describe(exc))
            return False

    def is_enabled(self, name: str) -> bool:
        info = self.infos.get(name)
        return info is not None and info.status == "enabled"

    def resolve_name(self, name: str) -> str | None:
        """Accept a plugin's entry-point name or its distribution name."""
        if name in self.infos:
            return name
        for key, info in self.infos.items():
            if info.distribution == name:
                return key
        return None

    def provider(self, name: str) -> Any | None:
        """The provider registered under `name`, if its plugin is enabled."""
        provider = self.providers.get(name)
        if provider is None or not self.is_enabled(self.provider_owner[name]):
            return None
        return provider

    def unavailable_provider(self, name: str, configured: bool = False) -> str | None:
        """Why provider `name` is not registered although the admin expects it: its plugin (the one named
        `name`, or the distribution ``aigne-hub-provider-<name>``) failed to load or register, or is left out
        by ``AIGNE_HUB_LOAD_PLUGINS``; or the provider is `configured` and no installed plugin registers it.
        None when nothing suggests the provider should exist (an unknown model is then a 404)."""
        if name in self.providers:
            return None
        for key, info in self.infos.items():
            if info.status not in ("failed", "excluded"):
                continue
            if name not in (info.name, key) and info.distribution != f"aigne-hub-provider-{name}":
                continue
            if info.status == "excluded":
                return (
                    f"Provider {name!r} is unavailable: its plugin {info.name!r} is not loaded ({info.error})"
                )
            return f"Provider {name!r} is unavailable: its plugin {info.name!r} failed to load: {info.error}"
        if configured:
            # names only: this reaches every caller, and `/-/plugins` shows an admin the errors
            failed = sorted(i.name for i in self.infos.values() if i.status == "failed")
            also = f"; plugins that failed to load (see /-/plugins): {', '.join(failed)}" if failed else ""
            return (
                f"Provider {name!r} is unavailable: no installed plugin provides it (install its plugin, for "
                f"example aigne-hub-provider-{name}, and restart the hub){also}"
            )
        return None

    def enabled_providers(self) -> dict[str, Any]:
        return {n: p for n, p in self.providers.items() if self.is_enabled(self.provider_owner[n])}

    def provider_plugin(self, name: str) -> str | None:
        return self.provider_owner.get(name)

    # --- calling --------------------------------------------------------------------------------------

    def _ordered(self, hook_name: str, include_disabled: bool = False) -> list[pluggy.HookImpl]:
        if not include_disabled and hook_name in self._impl_cache:
            return self._impl_cache[hook_name]
        impls = list(reversed(getattr(self.pm.hook, hook_name).get_hookimpls()))
        if include_disabled:
            return impls
        impls = [i for i in impls if self.is_enabled(i.plugin_name)]
        self._impl_cache[hook_name] = impls
        return impls

    async def first(self, hook_name: str, **kwargs: Any) -> Any:
        """First non-None answer in priority order. Fail closed: errors propagate as `HubError`."""
        kwargs = self.offered | kwargs
        for impl in self._ordered(hook_name):
            try:
                result = self._call(impl, kwargs)
                if _awaitable(result):
                    result = await result
            except HubError:
                raise
            except Exception as exc:
                raise _closed_failure(hook_name, impl.plugin_name, exc) from exc
            if result is not None:
                return result
        return None

    async def each(self, hook_name: str, **kwargs: Any) -> None:
        """Run every implementation, lowest priority first: the ``trylast`` defaults run first, so any other
        plugin sees, changes or replaces what they did (the highest priority has the last word).
        Fail closed."""
        kwargs = self.offered | kwargs
        for impl in reversed(self._ordered(hook_name)):
            try:
                result = self._call(impl, kwargs)
                if _awaitable(result):
                    await result
            except HubError:
                raise
            except Exception as exc:
                raise _closed_failure(hook_name, impl.plugin_name, exc) from exc

    async def observe(self, hook_name: str, **kwargs: Any) -> None:
        """Run every implementation, each isolated. Fail open: errors are logged, never raised."""
        kwargs = self.offered | kwargs
        for impl in self._ordered(hook_name):
            try:
                result = self._call(impl, kwargs)
                if _awaitable(result):
                    await result
            except Exception as exc:
                log.error(
                    "observer hook failed", hook=hook_name, plugin=impl.plugin_name, error=_describe(exc)
                )

    def observe_now(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Awaitable[Any]]] | None:
        """`observe` run at once, without a task, when every implementation is a plain function (the usage
        log's is): None, having run nothing, when one is ``async`` and the caller must use `observe`. Returns
        the awaitables some implementation returned anyway, for `observe_pending`."""
        impls = self._ordered(hook_name)
        cached = self._sync_only.get(hook_name)
        if cached is None or cached[0] is not impls:
            cached = (impls, not any(inspect.iscoroutinefunction(i.function) for i in impls))
            self._sync_only[hook_name] = cached
        if not cached[1]:
            return None
        kwargs = self.offered | kwargs
        pending: list[tuple[str, Awaitable[Any]]] = []
        for impl in impls:
            try:
                result = self._call(impl, kwargs)
                if _awaitable(result):
                    pending.append((impl.plugin_name, result))
            except Exception as exc:
                log.error(
                    "observer hook failed", hook=hook_name, plugin=impl.plugin_name, error=_describe(exc)
                )
        return pending

    async def observe_pending(self, hook_name: str, pending: list[tuple[str, Awaitable[Any]]]) -> None:
        for plugin, awaitable in pending:
            try:
                await awaitable
            except Exception as exc:
                log.error("observer hook failed", hook=hook_name, plugin=plugin, error=_describe(exc))

    def _hooks_of(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        callers = self.pm.get_hookcallers(plugin) or []
        return sorted(c.name for c in callers)

    def describe(self) -> list[dict[str, Any]]:
        return [info.as_dict() for info in sorted(self.infos.values(), key=lambda i: (i.builtin, i.name))]


def core_version() -> str:
    """The installed aigne-hub version: the plugin API version a plugin declares a range of."""
    try:
        return metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:  # pragma: no cover - the core runs from a bare source tree
        return "0"


def incompatibility(dist: metadata.Distribution) -> str | None:
    """Why a plugin's distribution cannot run on this hub: its ``aigne-hub`` requirement (for example
    ``aigne-hub>=0.2,<0.3``) excludes the running core's version. None when it fits or says nothing."""
    for line in dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) != CORE_DISTRIBUTION or (req.marker and not req.marker.evaluate()):
            continue
        version = core_version()
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return f"incompatible: {dist.name} requires aigne-hub{req.specifier}; this hub is {version}"
    return None


def _config_schema(plugin: object) -> dict[str, Any] | None:
    """The plugin's ``config_schema`` attribute when it is a JSON-schema object with properties."""
    schema = getattr(plugin, "config_schema", None)
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return None
    return schema


def _config_schema_problem(plugin: object) -> str | None:
    schema = _config_schema(plugin)
    problem = schema_problem(schema) if schema is not None else None
    return f"config_schema is not a valid JSON schema: {problem}" if problem else None


def _awaitable(result: Any) -> bool:
    """`inspect.isawaitable`, answering the common cases (a coroutine, None) without its ABC check."""
    if result is None:
        return False
    return type(result) is CoroutineType or inspect.isawaitable(result)


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _closed_failure(hook_name: str, plugin: str, exc: Exception) -> HubError:
    log.error("security hook failed; request refused", hook=hook_name, plugin=plugin, error=_describe(exc))
    return HubError(500, "plugin_error", f"Request refused: plugin {plugin!r} failed in {hook_name}")
