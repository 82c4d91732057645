"""Built-in behaviour written as ordinary plugins. Their hooks are ``trylast`` so any installed plugin that
implements the same hook is asked first and can replace them."""

from hub_core.default_plugins.key_auth import KeyAuthPlugin
from hub_core.default_plugins.openai_compatible import OpenAICompatiblePlugin
from hub_core.default_plugins.routing import DefaultRoutingPlugin
from hub_core.default_plugins.upstream import ProviderUpstreamPlugin
from hub_core.default_plugins.usage_log import UsageLogPlugin

__all__ = [
    "DefaultRoutingPlugin",
    "KeyAuthPlugin",
    "OpenAICompatiblePlugin",
    "ProviderUpstreamPlugin",
    "UsageLogPlugin",
]
