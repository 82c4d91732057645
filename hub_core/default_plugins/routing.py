"""Default routing: ``provider/model`` (or ``provider:model``) goes to that provider, with its next credential
by smooth weighted round-robin, or the provider's environment-variable keys when none is stored. A bare
model name (``gpt-4o``) rotates over every usable provider that serves it (`hub_core.routing.candidates`);
``exclude`` holds the providers a failing call already tried."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hub_core.errors import HubError
from hub_core.hookspecs import hookimpl
from hub_core.infra.plugin_host import PluginHost
from hub_core.providers.base import Provider
from hub_core.providers.compatible import KIND as COMPATIBLE_KIND
from hub_core.routing.candidates import BareModelRouter
from hub_core.runtime.state import ProviderConfig, RuntimeState, WeightedCredential
from hub_core.types import Caller, Credential, Route

if TYPE_CHECKING:
    from hub_core.routing.health import ProviderHealth


def split_model(model: str, known: dict[str, Provider]) -> tuple[str | None, str]:
    """``openai/gpt-4o`` → (openai, gpt-4o); the rest may contain ``/`` (openrouter/openai/gpt-4o)."""
    for sep in ("/", ":"):
        prefix, found, rest = model.partition(sep)
        if found and rest and prefix.lower() in known:
            return prefix.lower(), rest
    return None, model


def env_credentials(provider: Provider) -> list[Credential]:
    """Credentials from env vars; comma-separated values give several, used in turn."""
    columns: dict[str, list[str]] = {}
    for field_name, env_name in provider.env_credentials.items():
        raw = os.environ.get(env_name, "")
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if values:
            columns[field_name] = values
    if not columns:
        return []
    count = max(len(v) for v in columns.values())
    return [
        Credential(
            None, f"env:{i + 1}", {f: vals[min(i, len(vals) - 1)] for f, vals in columns.items()}, "env"
        )
        for i in range(count)
    ]


def requires_credential(provider: Provider) -> bool:
    return bool(provider.credential_schema.get("required"))


class DefaultRoutingPlugin:
    def __init__(self, host: PluginHost, state: RuntimeState, health: ProviderHealth | None = None) -> None:
        self.host = host
        self.state = state
        self._env: dict[str, ProviderConfig] = {}
        self.bare = BareModelRouter(host, self.provider_config, health)
        state.on_reload(lambda _state: self._env.clear())
        state.on_reload(lambda _state: self.bare.invalidate())

    def provider_config(self, name: str, provider: Provider) -> ProviderConfig | None:
        """The stored configuration, completed with env-var keys; None when the provider is unusable."""
        stored = self.state.providers.get(name)
        if stored is not None and (stored.credentials or not requires_credential(provider)):
            return stored
        cached = self._env.get(name)
        if cached is None:
            creds = env_credentials(provider)
            base = stored.base_url if stored else None
            cached = ProviderConfig(
                name,
                stored.id if stored else None,
                provider.display_name or name,
                base or (os.environ.get(provider.env_base_url, "") if provider.env_base_url else "") or None,
                stored.region if stored else None,
                stored.enabled if stored else True,
                stored.config if stored else {},
                [WeightedCredential(c, 100) for c in creds],
            )
            self._env[name] = cached
        # Nothing configured: a keyless provider (Ollama) counts only once its base URL is set in the env,
        # so installing a plugin never makes the hub call a host nobody pointed it at.
        unconfigured = stored is None and not cached.credentials
        pointed_at = bool(provider.env_base_url and cached.base_url)
        if unconfigured and (requires_credential(provider) or not pointed_at):
            return None
        return cached

    @hookimpl(trylast=True)
    def select_route(self, model: str, kind: str, caller: Caller, exclude: frozenset[str]) -> Route | None:
        name, upstream_model = split_model(model, self.host.providers)
        if name is None:
            route = self.bare_route(model, kind, exclude)
            if route is None and not exclude:
                self.refuse_missing_plugin(model)
            return route
        if name in exclude:
            return None  # ``provider/model`` means that provider only: no failover to another
        provider = self.host.provider(name)
        if provider is None:
            plugin = self.host.provider_plugin(name)
            raise HubError(
                503,
                "provider_disabled",
                f"Provider {name!r} is unavailable: its plugin {plugin!r} is disabled",
            )
        cfg = self.provider_config(name, provider)
        if cfg is None:
            raise HubError(
                503,
                "provider_not_configured",
                f"Provider {name!r} has no credential; add one with "
                f"`aigne-hub credentials add {name} --value ...` or set "
                f"{', '.join(provider.env_credentials.values()) or 'its credential'}",
            )
        if not cfg.enabled:
            raise HubError(503, "provider_disabled", f"Provider {name!r} is disabled by the admin")
        credential = cfg.next_credential()
        if credential is None and requires_credential(provider):
            raise HubError(
                503,
                "no_active_credential",
                f"Provider {name!r} has no active credential; add one with "
                f"`aigne-hub credentials add {name} --value ...` or set "
                f"{', '.join(provider.env_credentials.values()) or 'its credential'}",
            )
        return Route(
            provider=provider,
            provider_name=name,
            model=upstream_model,
            base_url=cfg.base_url or provider.default_base_url,
            credential=credential,
            provider_id=cfg.id,
            config=cfg.config,
            region=cfg.region,
        )

    def refuse_missing_plugin(self, model: str) -> None:
        """``acme/model`` whose provider no loaded plugin registers, while a plugin for it failed, is left
        out, or the provider is configured: say so (503) instead of "model not found" (404)."""
        for sep in ("/", ":"):
            prefix, found, rest = model.partition(sep)
            if not (found and rest):
                continue
            name = prefix.lower()
            cfg = self.state.providers.get(name)
            # a configured OpenAI-compatible endpoint needs no plugin: only a plugin's provider can miss one
            configured = cfg is not None and cfg.kind != COMPATIBLE_KIND
            reason = self.host.unavailable_provider(name, configured=configured)
            if reason is not None:
                raise HubError(503, "provider_unavailable", reason, param="model")

    def bare_route(self, model: str, kind: str, exclude: frozenset[str]) -> Route | None:
        """The next provider in `model`'s rotation that is not excluded; None when no provider serves it."""
        for cand in self.bare.order(model, kind, exclude):
            provider = self.host.provider(cand.provider)
            cfg = self.provider_config(cand.provider, provider) if provider is not None else None
            if provider is None or cfg is None or not cfg.enabled:
                continue
            credential = cfg.next_credential()
            if credential is None and requires_credential(provider):
                continue
            return Route(
                provider=provider,
                provider_name=cand.provider,
                model=cand.model,
                base_url=cfg.base_url or provider.default_base_url,
                credential=credential,
                provider_id=cfg.id,
                config=cfg.config,
                region=cfg.region,
            )
        return None
