"""Image editing: AIGNE requests with input images reach OpenAI's multipart ``/images/edits`` (over a real
socket to the fake upstream) with the image bytes, prompt and model; the edited pictures come back like
generated ones, usage is logged, and inputs the hub cannot take are clear 400s."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import openai
import pytest

from hub_core.testing.fake_openai import PNG_1PX

#: a second, different "image" so tests can tell the inputs apart (JPEG magic, then filler)
JPEG_STUB = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 32
PNG_B64 = base64.b64encode(PNG_1PX).decode()
JPEG_B64 = base64.b64encode(JPEG_STUB).decode()


async def post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
        return r.status, json.loads(await r.read())


@pytest.fixture
def auth(hub) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.create_key()}"}


def edit_body(image: Any, model: str = "openai/gpt-image-1", **inp: Any) -> dict[str, Any]:
    """As the SDK's AIGNEHubImageModel sends an edit: FileContent parts under ``input.image``."""
    return {
        "input": {
            "prompt": "Make it blue",
            "image": image,
            "modelOptions": {"model": model},
            "outputFileType": "file",
            **inp,
        },
        "agent": "$CHAT_MODEL",
        "options": {"streaming": False, "userContext": {}, "memories": []},
    }


def edits_sent(fake) -> list[dict[str, Any]]:
    return [r for r in fake.requests if r["path"] == "/v1/images/edits"]


async def test_aigne_image_with_a_file_part_is_an_edit(hub, auth, fake_openai_thread):
    part = {"type": "file", "data": PNG_B64, "mimeType": "image/png", "filename": "cat.png"}
    status, out = await post(f"{hub.url}/api/v2/image", edit_body([part], size="1024x1024"), auth)
    assert status == 200, out
    assert out["images"] == [{"type": "file", "mimeType": "image/png", "data": PNG_B64}]
    assert out["model"] == "gpt-image-1" and out["modelWithProvider"] == "openai/gpt-image-1"
    assert out["usage"] == {"inputTokens": 60, "outputTokens": 100}  # the upstream's own numbers

    [sent] = edits_sent(fake_openai_thread)
    assert sent["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert sent["headers"]["Authorization"] == f"Bearer {fake_openai_thread.api_key}"
    form = sent["body"]
    assert (form["model"], form["prompt"], form["n"], form["size"]) == (
        "gpt-image-1",
        "Make it blue",
        "1",
        "1024x1024",
    )
    assert "response_format" not in form  # GPT Image models reject it
    assert form["images"] == [
        {"field": "image", "filename": "cat.png", "content_type": "image/png", "data": PNG_1PX}
    ]
    assert not any(r["path"] == "/v1/images/generations" for r in fake_openai_thread.requests)

    row = hub.wait_for_calls(1)[0]
    assert (row["endpoint"], row["kind"], row["images"], row["status"]) == (
        "/api/v2/image",
        "image",
        1,
        "success",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (60, 100)


async def test_image_generations_with_base64_string_and_list(hub, auth, fake_openai_thread):
    url = f"{hub.url}/api/v2/image/generations"
    # one plain base64 string, DALL-E 2 (the default model): one `image` file, b64_json asked for
    status, out = await post(
        url, {"prompt": "Add a hat", "image": PNG_B64, "responseFormat": "b64_json"}, auth
    )
    assert status == 200, out
    assert out["data"][0]["b64_json"] == PNG_B64 and out["model"] == "dall-e-2"
    form = edits_sent(fake_openai_thread)[-1]["body"]
    assert (form["model"], form["response_format"]) == ("dall-e-2", "b64_json")
    assert [(i["field"], i["content_type"], i["data"]) for i in form["images"]] == [
        ("image", "image/png", PNG_1PX)
    ]

    # a list mixing a data: URL and plain base64: several `image[]` files, types sniffed from the bytes
    body = {
        "model": "openai/gpt-image-1",
        "prompt": "Combine them",
        "image": [f"data:image/png;base64,{PNG_B64}", JPEG_B64],
        "n": 2,
    }
    status, out = await post(url, body, auth)
    assert status == 200, out
    assert len(out["images"]) == 2
    assert all(img["url"].startswith(f"{hub.url}/media/") for img in out["images"])
    form = edits_sent(fake_openai_thread)[-1]["body"]
    assert form["n"] == "2"
    assert [(i["field"], i["filename"], i["content_type"], i["data"]) for i in form["images"]] == [
        ("image[]", "image-1.png", "image/png", PNG_1PX),
        ("image[]", "image-2.jpg", "image/jpeg", JPEG_STUB),
    ]
    rows = hub.wait_for_calls(2)
    assert [(r["endpoint"], r["images"]) for r in rows] == [
        ("/api/v2/image/generations", 1),
        ("/api/v2/image/generations", 2),
    ]


async def test_mask_goes_along(hub, auth, fake_openai_thread):
    body = edit_body({"type": "file", "data": PNG_B64}, mask={"type": "file", "data": PNG_B64})
    status, out = await post(f"{hub.url}/api/v2/image", body, auth)
    assert status == 200, out
    form = edits_sent(fake_openai_thread)[-1]["body"]
    assert form["mask"]["data"] == PNG_1PX and form["images"][0]["field"] == "image"


@pytest.mark.parametrize(
    ("path", "body", "param", "message"),
    [
        ("/api/v2/image", edit_body([{"type": "file", "data": "not base64!"}]), "input.image[0]", "base64"),
        ("/api/v2/image/generations", {"prompt": "x", "image": "%%%"}, "image", "not valid base64"),
        ("/api/v2/image/generations", {"prompt": "x", "image": "data:image/png,abc"}, "image", "data: URL"),
        (
            "/api/v2/image",
            edit_body([{"type": "url", "url": "http://169.254.169.254/latest/meta-data"}]),
            "input.image[0]",
            "does not download images from URLs",
        ),
        (
            "/api/v2/image/generations",
            {"prompt": "x", "image": ["https://example.com/cat.png"]},
            "image[0]",
            "does not download images from URLs",
        ),
        ("/api/v2/image", edit_body({"type": "local", "path": "/etc/passwd"}), "input.image", "local file"),
        ("/api/v2/image", edit_body([PNG_B64] * 17), "input.image", "at most 16"),
        ("/api/v2/image", edit_body([42]), "input.image[0]", "base64"),
    ],
)
async def test_bad_input_images_are_400s(hub, auth, fake_openai_thread, path, body, param, message):
    status, out = await post(f"{hub.url}{path}", body, auth)
    assert status == 400, out
    assert set(out) == {"error"} and message in out["error"]["message"], out
    assert out["error"]["type"] == "invalid_request_error"
    assert param in out["error"]["message"]
    assert not edits_sent(fake_openai_thread)  # refused before any upstream call


async def test_upstream_refusals_come_back_as_400(hub, auth, fake_openai_thread):
    # DALL-E 2 edits take one image; the upstream says so and the client gets a 400 with its message
    body = {"prompt": "x", "image": [PNG_B64, PNG_B64], "model": "openai/dall-e-2"}
    status, out = await post(f"{hub.url}/api/v2/image/generations", body, auth)
    assert status == 400, out
    assert "only one image" in out["error"]["message"]


@pytest.mark.parametrize(("provider", "model"), [("xai", "grok-2-image-1212"), ("ideogram", "ideogram-v3")])
async def test_provider_without_edit_support_is_a_400(hub, auth, fake_openai_thread, provider, model):
    hub.add_provider(provider, base_url=fake_openai_thread.base_url, credential="sk-other")
    body = edit_body([{"type": "file", "data": PNG_B64}], model=f"{provider}/{model}")
    status, out = await post(f"{hub.url}/api/v2/image", body, auth)
    assert status == 400, out
    assert f"{provider} does not support image editing" in out["error"]["message"]
    assert len(fake_openai_thread.requests) == 0  # never asked to draw something else instead


# --- the OpenAI-compatible /v1/images/edits, with the official SDK -----------------------------------------


@pytest.fixture
def client(hub) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{hub.url}/v1", api_key=hub.create_key(), max_retries=0)


def test_v1_images_edits_with_the_openai_sdk(client, hub, fake_openai_thread):
    result = client.images.edit(
        model="openai/gpt-image-1",
        image=[("a.png", PNG_1PX, "image/png"), ("b.jpg", JPEG_STUB, "image/jpeg")],
        prompt="Put them side by side",
        size="1024x1024",
    )
    assert [base64.b64decode(d.b64_json) for d in result.data] == [PNG_1PX]
    assert result.usage is not None and result.usage.input_tokens == 110
    form = edits_sent(fake_openai_thread)[-1]["body"]
    assert (form["model"], form["prompt"], form["size"]) == (
        "gpt-image-1",
        "Put them side by side",
        "1024x1024",
    )
    assert [(i["field"], i["filename"], i["data"]) for i in form["images"]] == [
        ("image[]", "a.png", PNG_1PX),
        ("image[]", "b.jpg", JPEG_STUB),
    ]
    row = hub.wait_for_calls(1)[-1]
    assert (row["endpoint"], row["kind"], row["images"], row["status"]) == (
        "/v1/images/edits",
        "image",
        1,
        "success",
    )

    # one image and a mask, DALL-E 2 with URL output: passed through as OpenAI answered
    result = client.images.edit(
        model="openai/dall-e-2",
        image=("in.png", PNG_1PX, "image/png"),
        mask=("mask.png", PNG_1PX, "image/png"),
        prompt="A hat",
        n=2,
        response_format="url",
    )
    assert [d.url for d in result.data] == [f"http://127.0.0.1:{fake_openai_thread.port}/files/fake.png"] * 2
    form = edits_sent(fake_openai_thread)[-1]["body"]
    assert [i["field"] for i in form["images"]] == ["image"] and form["mask"]["data"] == PNG_1PX
    assert (form["n"], form["response_format"]) == ("2", "url")


def test_v1_images_edits_refusals(client, fake_openai_thread):
    with pytest.raises(openai.BadRequestError, match="image is required"):
        client.images.edit(model="openai/gpt-image-1", image=[], prompt="x")
    with pytest.raises(openai.BadRequestError, match="prompt must be"):
        client.images.edit(model="openai/gpt-image-1", image=("a.png", PNG_1PX, "image/png"), prompt=" ")
    with pytest.raises(openai.BadRequestError, match="model is required"):
        client.images.edit(image=("a.png", PNG_1PX, "image/png"), prompt="x")
    assert not edits_sent(fake_openai_thread)
