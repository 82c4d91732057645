"""A fake xAI API on a real socket, built from xAI's REST API reference (OpenAI dialect plus quirks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from hub_core.testing import OpenAIDialectFake, Recorded

# xAI's error bodies are flat: a gRPC-style status text and the message
CODES = {
    400: "Client specified an invalid argument",
    403: "The caller does not have permission to execute the specified operation",
    404: "Some requested entity was not found",
    429: "Some resource has been exhausted",
    500: "Internal error",
}


class FakeXAI(OpenAIDialectFake):
    model_ids = ("grok-3-mini-fast", "grok-4", "grok-2-image-1212")

    def __init__(self) -> None:
        super().__init__(api_key="xai-fake-key-0123456789")

    def error_response(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        if status == 401:
            # xAI answers a wrong key with 400, not 401
            status, message = (
                400,
                "Incorrect API key provided: xa***89. You can obtain an API key from https://console.x.ai.",
            )
        return web.json_response(
            {"code": CODES.get(status, CODES[500]), "error": message}, status=status, headers=headers
        )

    def check_request(self, rec: Recorded) -> web.Response | None:
        if rec.path.endswith("/images/generations"):
            for field in ("size", "quality", "style"):
                if field in rec.json:
                    return self.error_response(400, f"Argument not supported: {field}")
        return None

    def reasoning_for(self, model: str) -> str | None:
        return "Thinking about a greeting." if "mini" in model else None

    def image_extras(self, body: dict[str, Any], count: int) -> dict[str, Any]:
        return {}


@pytest.fixture
def provider_fake() -> Iterator[FakeXAI]:
    with FakeXAI().in_thread() as fake:
        yield fake
