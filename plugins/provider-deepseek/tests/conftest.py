"""A fake DeepSeek API on a real socket, built from DeepSeek's API reference (OpenAI dialect plus quirks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from hub_core.testing import DETAIL_PROMPT, OpenAIDialectFake

ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request_error"),
    401: ("authentication_error", "invalid_request_error"),
    402: ("invalid_request_error", "invalid_request_error"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("api_error", "server_error"),
    503: ("api_error", "server_overloaded"),
}


class FakeDeepSeek(OpenAIDialectFake):
    model_ids = ("deepseek-chat", "deepseek-reasoner")

    def error_response(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        etype, code = ERROR_TYPES.get(status, ("api_error", "server_error"))
        if status == 401:
            message = "Authentication Fails, Your api key: ****-key is invalid"
        body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
        return web.json_response(body, status=status, headers=headers)

    def usage_object(self, prompt: int, completion: int, cached: int, reasoning: int) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_cache_hit_tokens": cached,
            "prompt_cache_miss_tokens": prompt - cached,
        }
        if prompt != DETAIL_PROMPT:
            # current answers also carry OpenAI's details; the usage-details model answers in the older form
            # (hit/miss only) so the plugin's fallback is what gets tested there
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return usage

    def reasoning_for(self, model: str) -> str | None:
        return "The user greets me. I echo." if model == "deepseek-reasoner" else None


@pytest.fixture
def provider_fake() -> Iterator[FakeDeepSeek]:
    with FakeDeepSeek().in_thread() as fake:
        yield fake
