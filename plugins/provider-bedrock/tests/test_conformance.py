"""The shared chat conformance matrix against the fake Bedrock Runtime, with the official openai SDK."""

from __future__ import annotations

from hub_core import Usage
from hub_core.testing import ChatConformance, ProviderCase


class TestBedrockConformance(ChatConformance):
    case = ProviderCase(
        "bedrock",
        chat_model="us.amazon.nova-lite-v1:0",
        # inputTokens 50 + cacheReadInputTokens 40 + cacheWriteInputTokens 10; Converse counts no reasoning
        usage_details=Usage(
            input_tokens=100, output_tokens=50, cached_input_tokens=40, cache_write_tokens=10
        ),
        retry_after=None,  # Bedrock sends no Retry-After with ThrottlingException
        listed_model="us.amazon.nova-lite-v1:0",
    )
