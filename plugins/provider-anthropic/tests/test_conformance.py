"""The hub's shared provider conformance matrix (`hub_core.testing.conformance`) against the fake Anthropic
API: chat, streaming, tools, images, cache and thinking usage, upstream failures, in-stream errors."""

from __future__ import annotations

from hub_core import Usage
from hub_core.testing import ChatConformance, ProviderCase


class TestAnthropicConformance(ChatConformance):
    case = ProviderCase(
        "anthropic",
        chat_model="claude-haiku-4-5",
        # the fake's usage-details answer: 50 fresh + 40 cache-read + 10 cache-write input, 20 of 50 thinking
        usage_details=Usage(
            input_tokens=100,
            output_tokens=50,
            cached_input_tokens=40,
            cache_write_tokens=10,
            reasoning_tokens=20,
        ),
        capabilities=frozenset({"chat", "count_tokens"}),
        listed_model="claude-sonnet-4-5",
    )
