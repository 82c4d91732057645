"""A fake Volcengine Ark (Doubao) API on a real socket, built from Ark's API reference."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from hub_core.testing import OpenAIDialectFake, Recorded

# Ark error bodies: a code, the message with a request id, and an HTTP-ish type
ERRORS = {
    400: ("InvalidParameter", "BadRequest"),
    401: ("AuthenticationError", "Unauthorized"),
    404: ("InvalidEndpointOrModel.NotFound", "NotFound"),
    429: ("RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests"),
    500: ("InternalServiceError", "InternalServerError"),
}


class FakeArk(OpenAIDialectFake):
    base_path = "/api/v3"
    model_ids = ("doubao-seed-1-6-250615", "doubao-seedream-4-0-250828")

    def __init__(self) -> None:
        super().__init__(api_key="ark-fake-key-0123456789")

    def error_response(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        code, etype = ERRORS.get(status, ERRORS[500])
        if status == 401:
            message = "The API key or AK/SK in the request is missing or invalid."
        body = {
            "error": {
                "code": code,
                "message": f"{message} Request id: 021700000000fake",
                "param": "",
                "type": etype,
            }
        }
        return web.json_response(body, status=status, headers=headers)

    def check_request(self, rec: Recorded) -> web.Response | None:
        if rec.path.endswith("/images/generations") and "n" in rec.json:
            return self.error_response(400, "The parameter `n` specified in the request is not valid")
        return None

    def reasoning_for(self, model: str) -> str | None:
        return "用户在打招呼。" if model.startswith("doubao-seed") else None

    async def images(self, request: web.Request) -> web.Response:
        body, failed = await self.admit(request)
        if failed is not None:
            return failed
        assert body is not None
        count = 1
        if body.get("sequential_image_generation") == "auto":
            count = int((body.get("sequential_image_generation_options") or {}).get("max_images") or 1)
        item = self.image_item(body)
        size = body.get("size") or "2048x2048"
        payload: dict[str, Any] = {
            "model": body["model"],
            "created": int(time.time()),
            "data": [{**item, "size": size} for _ in range(count)],
            "usage": {
                "generated_images": count,
                "output_tokens": 16384 * count,
                "total_tokens": 16384 * count,
            },
        }
        return web.json_response(payload)


@pytest.fixture
def provider_fake() -> Iterator[FakeArk]:
    with FakeArk().in_thread() as fake:
        yield fake
