"""A fake Ideogram API on a real socket, built from Ideogram's API reference (Generate with Ideogram 3.0).

``POST /v1/ideogram-v3/generate`` takes a ``multipart/form-data`` body and the ``Api-Key`` header. The fake
parses the form and checks it as the reference describes (``prompt`` required; ``rendering_speed``,
``aspect_ratio``, ``resolution`` (not both), ``magic_prompt``, ``style_type`` from their enums; ``num_images``
1-8; ``seed`` an integer; ``style_codes`` 8-digit hex; ``color_palette`` a JSON object), answers with
Ideogram's generation object (``created`` as an ISO time, ``data`` with temporary image URLs it also serves,
the rewritten prompt, ``resolution``, ``seed``, ``is_image_safe``), fails like Ideogram (``{"error": ...}``
with 400 / 401 / 402 / 422 / 429 / 500) and takes the conformance scenario from the prompt (Ideogram requests
carry no model name).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from hub_core.testing import FAIL_401, FAIL_429, FAIL_500, MALFORMED, PNG_1PX, FakeServer, Recorded

API_KEY = "ideogram-fake-key-0123"
SPEEDS = {"FLASH", "TURBO", "DEFAULT", "QUALITY"}
RATIOS = {
    *("1x3", "3x1", "1x2", "2x1", "9x16", "16x9", "10x16", "16x10"),
    *("2x3", "3x2", "3x4", "4x3", "4x5", "5x4", "1x1"),
}
#: "The resolutions supported for Ideogram 3.0" (the reference's enum)
_RESOLUTIONS = """
    512x1536 576x1408 576x1472 576x1536 640x1344 640x1408 640x1472 640x1536 704x1152 704x1216 704x1280
    704x1344 704x1408 704x1472 736x1312 768x1088 768x1216 768x1280 768x1344 800x1280 832x960 832x1024 832x1088
    832x1152 832x1216 832x1248 864x1152 896x960 896x1024 896x1088 896x1120 896x1152 960x832 960x896 960x1024
    960x1088 1024x832 1024x896 1024x960 1024x1024 1088x768 1088x832 1088x896 1088x960 1120x896 1152x704
    1152x832 1152x864 1152x896 1216x704 1216x768 1216x832 1248x832 1280x704 1280x768 1280x800 1312x736
    1344x640 1344x704 1344x768 1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 1536x512 1536x576
    1536x640"""
RESOLUTIONS = set(_RESOLUTIONS.split())
MAGIC = {"AUTO", "ON", "OFF"}
STYLES = {"AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION"}
FIELDS = {
    "prompt",
    "seed",
    "resolution",
    "aspect_ratio",
    "rendering_speed",
    "magic_prompt",
    "negative_prompt",
    "num_images",
    "color_palette",
    "style_codes",
    "style_type",
    "style_preset",
}
#: prompts that make the fake fail: (status, Ideogram's error text)
FAILURES = {
    FAIL_401: (401, "Unauthorized"),
    FAIL_429: (429, "Too many in-flight requests"),
    FAIL_500: (500, "Internal server error"),
    "safety": (422, "Prompt or provided image failed the safety checks"),
    "no-credit": (402, "Insufficient credits: add credits to your API account"),
}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class FakeIdeogram(FakeServer):
    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.forms: list[dict[str, Any]] = []  # per request: field → value (a list for repeated fields)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/ideogram-v3/generate", self.generate)
        app.router.add_get("/ephemeral/{name}", self.image)

    async def image(self, request: web.Request) -> web.Response:
        return web.Response(body=PNG_1PX, content_type="image/png")

    async def read_form(self, request: web.Request) -> dict[str, Any]:
        form: dict[str, Any] = {}
        reader = await request.multipart()
        async for part in reader:
            value = (await part.read()).decode()  # type: ignore[union-attr]
            name = str(part.name)  # type: ignore[union-attr]
            if name in form:
                form[name] = [*(form[name] if isinstance(form[name], list) else [form[name]]), value]
            else:
                form[name] = value
        return form

    @staticmethod
    def check(form: dict[str, Any]) -> str | None:
        unknown = set(form) - FIELDS
        if unknown:
            return f"Unknown fields: {sorted(unknown)}"
        if not isinstance(form.get("prompt"), str) or not form["prompt"].strip():
            return "prompt is required"
        if "aspect_ratio" in form and "resolution" in form:
            return "aspect_ratio cannot be used in conjunction with resolution"
        enums = {
            "rendering_speed": SPEEDS,
            "aspect_ratio": RATIOS,
            "magic_prompt": MAGIC,
            "style_type": STYLES,
        }
        for field, allowed in enums.items():
            if field in form and form[field] not in allowed:
                return f"{field} must be one of {sorted(allowed)}"
        if "resolution" in form and form["resolution"] not in RESOLUTIONS:
            return "resolution is not supported for Ideogram 3.0"
        if not str(form.get("num_images", "1")).isdigit() or not 1 <= int(form.get("num_images", "1")) <= 8:
            return "num_images must be between 1 and 8"
        if "seed" in form and (not str(form["seed"]).isdigit() or int(form["seed"]) > 2147483647):
            return "seed must be an integer between 0 and 2147483647"
        codes = form.get("style_codes", [])
        for code in codes if isinstance(codes, list) else [codes]:
            if not re.fullmatch(r"[0-9A-Fa-f]{8}", code):
                return "style_codes are 8-character hexadecimal codes"
        if "color_palette" in form:
            try:
                palette = json.loads(form["color_palette"])
            except ValueError:
                return "color_palette must be a JSON object"
            if not isinstance(palette, dict) or not ({"name", "members"} & set(palette)):
                return "color_palette needs a name or members"
        return None

    async def generate(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/form-data"):
            await self.record(request)
            return error(400, "Content-Type must be multipart/form-data")
        form = await self.read_form(request)
        self.forms.append(form)
        # the form is read once, as a stream: the raw body is not kept
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), b"")
        )
        if request.headers.get("Api-Key") != self.api_key:
            return error(401, "Unauthorized")
        failure = self.pop_failure()
        if failure is not None:
            return error(failure.status, failure.message, failure.headers)
        prompt = str(form.get("prompt", ""))
        if prompt in FAILURES:
            return error(*FAILURES[prompt])
        if prompt == MALFORMED:
            return web.Response(body=b'{"created": "2025-', content_type="application/json")
        problem = self.check(form)
        if problem:
            return error(400, problem)
        count = int(form.get("num_images", "1"))
        data = [
            {
                "prompt": f"{prompt}, detailed illustration",
                "resolution": form.get("resolution", "1024x1024"),
                "is_image_safe": not (prompt == "unsafe" or (prompt == "partly-unsafe" and i == 0)),
                "seed": int(form.get("seed", 12345)) + i,
                "url": f"http://127.0.0.1:{self.port}/ephemeral/image-{i}.png",
                "style_type": form.get("style_type", "GENERAL"),
            }
            for i in range(count)
        ]
        for item in data:
            if not item["is_image_safe"]:
                item["url"] = None  # Ideogram withholds the URL of an image it marks unsafe
        return web.json_response({"created": "2025-06-01T12:00:00.000000+00:00", "data": data})
