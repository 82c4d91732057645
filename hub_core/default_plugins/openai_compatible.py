"""OpenAI-compatible endpoints without code: one provider per stored record of kind ``openai_compatible``.

An admin adds such a record (name, base URL, optional key, models) through the admin API, the CLI or the
console; this plugin registers a `CompatibleEndpoint` under the record's name whenever the configuration
snapshot reloads, so ``name/model`` routes on the next request, with no restart, like a plugin's provider.
"""

from __future__ import annotations

import structlog

from hub_core.infra.plugin_host import PluginHost
from hub_core.providers.compatible import (
    KIND,
    CompatibleEndpoint,
    compatible_provider,
    configured_models,
    endpoint_options,
)
from hub_core.runtime.state import ProviderConfig, RuntimeState

log = structlog.get_logger("hub_core.default_plugins.openai_compatible")

PLUGIN_NAME = "openai_compatible"

_Key = tuple[str, str, tuple[str, ...], bool, tuple[tuple[str, str], ...], bool]


class OpenAICompatiblePlugin:
    """Registers no hooks: its providers follow the stored records (`RuntimeState.on_reload`)."""

    def __init__(self, host: PluginHost, state: RuntimeState) -> None:
        self.host = host
        # the same object while a record is unchanged, so a reload that changed something else keeps it
        self._built: dict[str, tuple[_Key, CompatibleEndpoint]] = {}
        state.on_reload(self.sync)

    def sync(self, state: RuntimeState) -> None:
        built: dict[str, tuple[_Key, CompatibleEndpoint]] = {}
        for cfg in state.providers.values():
            if cfg.kind == KIND and cfg.base_url:
                built[cfg.name] = self._provider_for(cfg)
        self._built = built
        refused = self.host.set_providers(PLUGIN_NAME, {n: p for n, (_, p) in built.items()})
        for name in refused:
            owner = self.host.provider_plugin(name)
            log.warning(
                "OpenAI-compatible provider not routed: an installed plugin has its name",
                provider=name,
                plugin=owner,
            )

    def _provider_for(self, cfg: ProviderConfig) -> tuple[_Key, CompatibleEndpoint]:
        assert cfg.base_url is not None
        models = tuple(configured_models(cfg.config))
        keyed = cfg.stored_credentials > 0
        headers, stream_usage = endpoint_options(cfg.config)
        key = (cfg.display_name, cfg.base_url, models, keyed, tuple(sorted(headers.items())), stream_usage)
        known = self._built.get(cfg.name)
        if known is not None and known[0] == key:
            return known
        provider = compatible_provider(
            cfg.name,
            cfg.display_name,
            cfg.base_url,
            models,
            keyed=keyed,
            headers=headers,
            stream_usage=stream_usage,
        )
        return key, provider
