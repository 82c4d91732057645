"""The plugin author's test kit (public API): hubs on real sockets, fake upstreams that speak a vendor's wire
format, the conformance suite every provider runs, and helpers to load a plugin under test.

The pytest fixtures are opt-in: ``pytest -p hub_core.testing.pytest_plugin`` (or ``pytest_plugins =
["hub_core.testing.pytest_plugin"]`` in a conftest). See docs/plugins.md, "Testing a plugin".
"""

from hub_core.testing.billing import call, new_user, ok, set_rate, settled, use_mode, user_did
from hub_core.testing.client import HubClient, hub_client
from hub_core.testing.conformance import (
    WEATHER_TOOL,
    ChatConformance,
    EmbeddingConformance,
    ImageConformance,
    ProviderCase,
)
from hub_core.testing.fake_openai import MP4_STUB, FakeOpenAI, fake_in_thread
from hub_core.testing.fake_openai_dialect import DETAIL_PROMPT, OpenAIDialectFake
from hub_core.testing.fake_server import (
    FAIL_401,
    FAIL_429,
    FAIL_500,
    MALFORMED,
    PNG_1PX,
    PNG_1PX_DATA_URL,
    RETRY_AFTER_SECONDS,
    STREAM_ERROR,
    USAGE_DETAILS,
    Failure,
    FakeServer,
    FakeUpstream,
    Recorded,
    reply_text,
    words_of,
)
from hub_core.testing.provider_tests import load_module, openai_client, provider_hub
from hub_core.testing.pytest_plugin import PG_ADMIN_URL, make_settings
from hub_core.testing.registry import register_plugin
from hub_core.testing.server import HubServer, free_port

__all__ = [
    "DETAIL_PROMPT",
    "FAIL_401",
    "FAIL_429",
    "FAIL_500",
    "MALFORMED",
    "MP4_STUB",
    "PG_ADMIN_URL",
    "PNG_1PX",
    "PNG_1PX_DATA_URL",
    "RETRY_AFTER_SECONDS",
    "STREAM_ERROR",
    "USAGE_DETAILS",
    "WEATHER_TOOL",
    "ChatConformance",
    "EmbeddingConformance",
    "Failure",
    "FakeOpenAI",
    "FakeServer",
    "FakeUpstream",
    "HubClient",
    "HubServer",
    "ImageConformance",
    "OpenAIDialectFake",
    "ProviderCase",
    "Recorded",
    "call",
    "fake_in_thread",
    "free_port",
    "hub_client",
    "load_module",
    "make_settings",
    "new_user",
    "ok",
    "openai_client",
    "provider_hub",
    "register_plugin",
    "reply_text",
    "set_rate",
    "settled",
    "use_mode",
    "user_did",
    "words_of",
]
