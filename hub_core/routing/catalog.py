"""The model catalog: which `provider/model` strings the hub can serve right now.

Per usable provider: the models configured on the provider record (``config.models``), else the upstream's
own model list (cached), else the models the plugin knows about.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from hub_core.types import Route

if TYPE_CHECKING:
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.infra.upstream import UpstreamClient
    from hub_core.providers.base import Provider
    from hub_core.runtime.state import ProviderConfig

log = structlog.get_logger("hub_core.routing.catalog")
CACHE_SECONDS = 600.0


class ProviderConfigs(Protocol):
    """Where the catalog reads a provider's usable configuration (the routing plugin)."""

    def provider_config(self, name: str, provider: Provider) -> ProviderConfig | None: ...


class ModelCatalog:
    def __init__(self, host: PluginHost, routing: ProviderConfigs, upstream: UpstreamClient) -> None:
        self.host = host
        self.routing = routing
        self.upstream = upstream
        self._cache: dict[str, tuple[float, list[str]]] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    def cached(self, name: str) -> list[str]:
        """The upstream's model list as last fetched; never fetches (bare-model routing reads it per call)."""
        entry = self._cache.get(name)
        return entry[1] if entry else []

    async def list_models(self, kind: str | None = None) -> list[dict[str, Any]]:
        providers = self.host.enabled_providers()
        results = await asyncio.gather(*(self._models_of(n, p) for n, p in sorted(providers.items())))
        out = []
        for (name, provider), models in zip(sorted(providers.items()), results, strict=True):
            for kind_name, model in models:
                if kind is None or kind == kind_name:
                    out.append(
                        {
                            "id": f"{name}/{model}",
                            "model": model,
                            "provider": name,
                            "type": kind_name,
                            "providerDisplayName": provider.display_name or name,
                        }
                    )
        return out

    async def _models_of(self, name: str, provider: Any) -> list[tuple[str, str]]:
        cfg = self.routing.provider_config(name, provider)
        if cfg is None or not cfg.enabled:
            return []
        configured = cfg.config.get("models")
        if isinstance(configured, list) and configured:
            return [(_kind_of(provider, str(m)), str(m)) for m in configured]
        known = [(k, m) for k, models in provider.known_models.items() for m in models]
        listed = await self._upstream_models(name, provider, cfg)
        if listed:
            return [(_kind_of(provider, m), m) for m in listed]
        return known

    async def _upstream_models(self, name: str, provider: Any, cfg: Any) -> list[str]:
        cached = self._cache.get(name)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        route = Route(
            provider,
            name,
            "",
            cfg.base_url or provider.default_base_url,
            cfg.next_credential(),
            cfg.id,
            cfg.config,
        )
        try:
            req = provider.models_request(route)
            if req is None:  # the vendor has no such call
                return []
            provider.apply_credential(req, route.credential)
            resp = await asyncio.wait_for(self.upstream.send(req, name), 5)
            async with resp:
                body = await resp.read_body()
                models = provider.parse_models(body) if resp.status < 400 else []
        except Exception as exc:
            log.warning("model list unavailable", provider=name, error=str(exc))
            models = []
        self._cache[name] = (time.monotonic() + (CACHE_SECONDS if models else 30.0), models)
        return models


def _kind_of(provider: Any, model: str) -> str:
    for kind, models in provider.known_models.items():
        if model in models:
            return kind
    lowered = model.lower()
    if "embed" in lowered:
        return "embedding"
    if any(t in lowered for t in ("dall-e", "image", "imagen")):
        return "image"
    if any(t in lowered for t in ("sora", "veo")):
        return "video"
    return "chat"
