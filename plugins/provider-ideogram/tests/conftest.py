"""A fake Ideogram API on a real socket, built from Ideogram's API reference (Ideogram 3.0 generate).

It parses the multipart form, checks the fields Ideogram 3.0 accepts (``rendering_speed``, ``aspect_ratio``,
``num_images`` 1-8 ...), authenticates the ``Api-Key`` header, answers with Ideogram's generation object
(temporary image URLs, the rewritten prompt, ``is_image_safe``) and takes the conformance scenario from the
prompt (Ideogram requests carry no model name).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from hub_core.testing.fake_server import FAIL_401, FAIL_429, FAIL_500, MALFORMED, FakeServer

SPEEDS = {"TURBO", "DEFAULT", "QUALITY", "FLASH"}
RATIOS = {
    "1x3",
    "3x1",
    "1x2",
    "2x1",
    "9x16",
    "16x9",
    "10x16",
    "16x10",
    "2x3",
    "3x2",
    "3x4",
    "4x3",
    "4x5",
    "5x4",
    "1x1",
}
FIELDS = {
    "prompt",
    "rendering_speed",
    "num_images",
    "aspect_ratio",
    "negative_prompt",
    "seed",
    "style_type",
    "magic_prompt",
    "style_preset",
    "resolution",
}


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class FakeIdeogram(FakeServer):
    def __init__(self, api_key: str = "ideogram-fake-key-0123") -> None:
        super().__init__()
        self.api_key = api_key
        self.forms: list[dict[str, str]] = []

    @property
    def credential(self) -> Any:
        return self.api_key

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/ideogram-v3/generate", self.generate)

    async def generate(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/form-data"):
            return error(415, "Content-Type must be multipart/form-data")
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.forms.append(form)
        await self.record(request)
        if request.headers.get("Api-Key") != self.api_key:
            return error(401, "Unauthorized")
        prompt = form.get("prompt", "")
        if prompt == FAIL_401:
            return error(401, "Unauthorized")
        if prompt == FAIL_429:
            return error(429, "Too many in-flight requests")
        if prompt == FAIL_500:
            return error(500, "Internal server error")
        if prompt == MALFORMED:
            return web.Response(body=b'{"created": "2025-', content_type="application/json")
        unknown = set(form) - FIELDS
        if not prompt or unknown:
            return error(422, f"Invalid input: {sorted(unknown) or 'prompt is required'}")
        if (
            form.get("rendering_speed", "DEFAULT") not in SPEEDS
            or form.get("aspect_ratio", "1x1") not in RATIOS
        ):
            return error(422, "Invalid input")
        count = int(form.get("num_images", "1"))
        if not 1 <= count <= 8:
            return error(422, "num_images must be between 1 and 8")
        data = [
            {
                "prompt": f"{prompt}, detailed illustration",
                "resolution": "1024x1024",
                "is_image_safe": True,
                "seed": 12345 + i,
                "url": f"http://127.0.0.1:{self.port}/ephemeral/image-{i}.png",
                "style_type": form.get("style_type", "GENERAL"),
            }
            for i in range(count)
        ]
        if prompt == "unsafe":
            data = [{**d, "is_image_safe": False, "url": None} for d in data]
        return web.json_response({"created": "2025-06-01T12:00:00.000000+00:00", "data": data})


@pytest.fixture
def provider_fake() -> Iterator[FakeIdeogram]:
    with FakeIdeogram().in_thread() as fake:
        yield fake
