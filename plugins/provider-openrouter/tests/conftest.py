"""A fake OpenRouter API on a real socket, built from OpenRouter's API reference (OpenAI dialect + quirks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from hub_core.testing import DETAIL_PROMPT, OpenAIDialectFake, Recorded


class FakeOpenRouter(OpenAIDialectFake):
    base_path = "/api/v1"
    model_ids = ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash")

    def __init__(self) -> None:
        super().__init__(api_key="sk-or-v1-fake0123456789")

    def error_response(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        if status == 401:
            message = "No cookie auth credentials found"
        body = {"error": {"code": status, "message": message, "metadata": {"provider_name": None}}}
        return web.json_response(body, status=status, headers=headers)

    def check_request(self, rec: Recorded) -> web.Response | None:
        model = str(rec.json.get("model", ""))
        if rec.path.endswith("/chat/completions") and "/" not in model:
            return self.error_response(400, f"{model} is not a valid model ID")
        return None

    def usage_object(self, prompt: int, completion: int, cached: int, reasoning: int) -> dict[str, Any]:
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": 0.000123,
            "is_byok": False,
            "prompt_tokens_details": {
                "cached_tokens": cached,
                "cache_write_tokens": 10 if prompt == DETAIL_PROMPT else 0,
                "audio_tokens": 0,
            },
            "cost_details": {
                "upstream_inference_cost": None,
                "upstream_inference_prompt_cost": 0.0001,
                "upstream_inference_completions_cost": 0.000023,
            },
            "completion_tokens_details": {"reasoning_tokens": reasoning, "image_tokens": 0},
        }

    def stream_error_event(self) -> bytes:
        # OpenRouter's mid-stream failure: a normal chunk with an error member and finish_reason "error"
        chunk = {
            "id": "gen-fake",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "openai/gpt-4o-mini",
            "provider": "OpenAI",
            "error": {"code": "server_error", "message": "Provider disconnected mid-stream"},
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
        }
        return b": OPENROUTER PROCESSING\n\ndata: " + json.dumps(chunk).encode() + b"\n\n"


@pytest.fixture
def provider_fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter().in_thread() as fake:
        yield fake
