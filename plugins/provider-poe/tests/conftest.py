"""A fake Poe API on a real socket, built from Poe's OpenAI-compatible API reference."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiohttp import web

from hub_core.testing import OpenAIDialectFake

# Poe's documented error types per status
ERRORS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    402: ("insufficient_credits", "insufficient_credits"),
    404: ("not_found_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("provider_error", "internal_error"),
}


class FakePoe(OpenAIDialectFake):
    model_ids = ("GPT-5-mini", "Claude-Sonnet-4", "Gemini-2.5-Flash")

    def __init__(self) -> None:
        super().__init__(api_key="poe-fake-key-0123456789")

    def error_response(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        etype, code = ERRORS.get(status, ERRORS[500])
        if status == 401:
            message = "Invalid API key provided"
        return web.json_response(
            {"error": {"message": message, "type": etype, "code": code}}, status=status, headers=headers
        )


@pytest.fixture
def provider_fake() -> Iterator[FakePoe]:
    with FakePoe().in_thread() as fake:
        yield fake
