"""AIGNE image, video and embedding endpoints: generated files stored under unguessable names and fetched
without credentials, inline base64 on request, the video job run through the OpenAI Videos API, and the
usage each call leaves in the log."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest

from hub_core.testing.fake_openai import MP4_STUB, PNG_1PX


async def request(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None):
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if body is not None:
            kwargs["json"] = body
        async with session.request(method, url, **kwargs) as r:
            return r.status, r.headers.get("Content-Type", ""), await r.read()


@pytest.fixture
def auth(hub) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.create_key()}", "x-aigne-hub-client-did": "zMediaApp"}


def image_body(output: str | None = "url", **inp: Any) -> dict[str, Any]:
    """As the SDK's AIGNEHubImageModel sends it."""
    data: dict[str, Any] = {
        "prompt": "A small red square",
        "modelOptions": {"model": "openai/dall-e-3"},
        **inp,
    }
    if output:
        data["outputFileType"] = output
    return {
        "input": data,
        "agent": "$CHAT_MODEL",
        "options": {"streaming": False, "userContext": {}, "memories": []},
    }


async def test_image_urls_are_public_and_unguessable(hub, auth, fake_openai_thread):
    status, _, raw = await request("POST", f"{hub.url}/api/v2/image", image_body(n=2, size="1024x1024"), auth)
    assert status == 200, raw
    out = json.loads(raw)
    assert out["model"] == "dall-e-3" and out["modelWithProvider"] == "openai/dall-e-3"
    assert out["usage"] == {"inputTokens": 0, "outputTokens": 0}
    urls = [img["url"] for img in out["images"]]
    assert [img["type"] for img in out["images"]] == ["url", "url"] and len(set(urls)) == 2
    for url in urls:
        assert url.startswith(f"{hub.url}/media/") and len(url.rsplit("/", 1)[1]) == len("x" * 32 + ".png")
        status, ctype, data = await request("GET", url)  # no credentials
        assert (status, ctype, data) == (200, "image/png", PNG_1PX)
    sent = fake_openai_thread.requests[-1]["body"]
    assert sent == {
        "model": "dall-e-3",
        "prompt": "A small red square",
        "n": 2,
        "size": "1024x1024",
        "response_format": "b64_json",
    }
    row = hub.wait_for_calls(1)[0]
    assert (row["kind"], row["images"], row["app_did"]) == ("image", 2, "zMediaApp")


async def test_image_inline_base64_and_gpt_image(hub, auth, fake_openai_thread):
    body = image_body("file")
    body["input"]["modelOptions"]["model"] = "openai/gpt-image-1"
    _status, _, raw = await request("POST", f"{hub.url}/api/v2/image", body, auth)
    out = json.loads(raw)
    assert out["images"] == [
        {"type": "file", "mimeType": "image/png", "data": base64.b64encode(PNG_1PX).decode()}
    ]
    assert out["usage"] == {"inputTokens": 10, "outputTokens": 100}
    assert "response_format" not in fake_openai_thread.requests[-1]["body"]  # GPT Image models reject it


async def test_media_route_refuses_anything_but_stored_names(hub):
    for name in ("nope.png", "..%2Fhub.db", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.png", ".secret.key"):
        status, _ctype, raw = await request("GET", f"{hub.url}/media/{name}")
        assert status == 404 and json.loads(raw)["error"]["message"] in ("File not found", "Not found")


async def test_image_generations_flat_format(hub, auth):
    body = {"model": "openai/dall-e-2", "prompt": "a cat", "n": 1, "responseFormat": "b64_json"}
    _, _, raw = await request("POST", f"{hub.url}/api/v2/image/generations", body, auth)
    out = json.loads(raw)
    encoded = base64.b64encode(PNG_1PX).decode()
    assert out["data"] == out["images"] == [{"base64": encoded, "b64_json": encoded, "b64Json": encoded}]
    assert out["model"] == "dall-e-2"
    _, _, raw = await request(
        "POST", f"{hub.url}/api/v2/image/generations", {"model": "openai/dall-e-2", "prompt": "a cat"}, auth
    )
    url = json.loads(raw)["images"][0]["url"]
    assert (await request("GET", url))[2] == PNG_1PX


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/v2/image", {"input": {"prompt": ""}}, "input.prompt must be a non-empty string"),
        ("/api/v2/image", {"input": {"prompt": "x", "n": 11}}, "input.n must be an integer between 1 and 10"),
        ("/api/v2/image", {"input": {"prompt": "x", "outputFileType": "disk"}}, "outputFileType must be url"),
        (
            "/api/v2/image",
            {"input": {"prompt": "x", "image": [{"type": "url", "url": "http://x/a.png"}]}},
            "does not download images from URLs",  # editing works (tests/test_image_edits.py); fetching not
        ),
        ("/api/v2/image", {"prompt": "x"}, "input must be an object"),
        (
            "/api/v2/image/generations",
            {"prompt": "x", "responseFormat": "png"},
            "responseFormat must be url or b64_json",
        ),
        (
            "/api/v2/video",
            {"input": {"prompt": "x", "image": {"type": "url", "url": "http://x"}}},
            "input.image must be a file",
        ),
        ("/api/v2/embeddings", {"input": {"input": "x"}}, "Model parameter is required"),
        (
            "/api/v2/embeddings",
            {"model": "openai/text-embedding-3-small", "input": []},
            "input must be a non-empty",
        ),
    ],
)
async def test_media_validation(hub, auth, path, body, message):
    status, _, raw = await request("POST", f"{hub.url}{path}", body, auth)
    assert status == 400 and message in json.loads(raw)["error"]["message"]


async def test_video_runs_the_job_and_serves_the_clip(hub, auth, fake_openai_thread):
    body = {
        "input": {
            "prompt": "A cat on a piano",
            "model": "openai/sora-2",
            "seconds": "8",
            "size": "1280x720",
            "image": {"type": "file", "data": base64.b64encode(PNG_1PX).decode(), "mimeType": "image/png"},
            "outputFileType": "url",
            "modelOptions": {"model": "openai/sora-2"},
        },
        "agent": "$CHAT_MODEL",
        "options": {"streaming": False},
    }
    status, _, raw = await request("POST", f"{hub.url}/api/v2/video", body, auth)
    assert status == 200, raw
    out = json.loads(raw)
    assert out["seconds"] == 8 and out["model"] == "sora-2" and out["modelWithProvider"] == "openai/sora-2"
    clip = out["videos"][0]
    assert clip["type"] == "url" and clip["mimeType"] == "video/mp4"
    assert await request("GET", clip["url"]) == (200, "video/mp4", MP4_STUB)
    status, _, part = await request("GET", clip["url"], headers={"Range": "bytes=4-11"})  # players seek
    assert (status, part) == (206, MP4_STUB[4:12])
    paths = [r["path"] for r in fake_openai_thread.requests if "/videos" in r["path"]]
    assert paths[0] == "/v1/videos"
    created = fake_openai_thread.requests[-1]["body"]
    assert (
        created["prompt"] == "A cat on a piano"
        and created["seconds"] == "8"
        and created["size"] == "1280x720"
    )
    assert created["input_reference"]["size"] == len(PNG_1PX)
    job = next(iter(fake_openai_thread.videos.values()))
    assert job["status"] == "completed"
    row = hub.wait_for_calls(1)[0]
    assert (row["kind"], row["seconds"], row["status"]) == ("video", 8.0, "success")
    assert row["metadata"]["video_id"] == job["id"]


async def test_video_inline_and_failed_job(hub, auth):
    body = {"input": {"prompt": "x", "outputFileType": "file", "modelOptions": {"model": "openai/sora-2"}}}
    _, _, raw = await request("POST", f"{hub.url}/api/v2/video", body, auth)
    clip = json.loads(raw)["videos"][0]
    assert clip["type"] == "file" and base64.b64decode(clip["data"]) == MP4_STUB
    body["input"]["modelOptions"]["model"] = "openai/fail-video"
    status, _, raw = await request("POST", f"{hub.url}/api/v2/video", body, auth)
    assert (
        status == 502 and json.loads(raw)["error"]["message"] == "Video generation failed: fake render failed"
    )
    rows = hub.wait_for_calls(2)
    assert rows[-1]["status"] == "error"


async def test_embeddings_envelope_and_flat(hub, auth, fake_openai_thread):
    body = {
        "input": {
            "input": ["hello", "big world"],
            "modelOptions": {"model": "openai/text-embedding-3-small", "dimensions": 4},
        }
    }
    status, _, raw = await request("POST", f"{hub.url}/api/v2/embeddings", body, auth)
    out = json.loads(raw)
    assert status == 200 and len(out["embeddings"]) == 2 and all(len(v) == 4 for v in out["embeddings"])
    assert out["usage"] == {"inputTokens": 3, "outputTokens": 0}
    assert fake_openai_thread.requests[-1]["body"]["encoding_format"] == "float"
    flat = {"model": "openai/text-embedding-3-small", "input": "hello"}
    _, _, raw = await request("POST", f"{hub.url}/api/v2/embeddings", flat, auth)
    assert len(json.loads(raw)["embeddings"]) == 1
    assert [r["kind"] for r in hub.wait_for_calls(2)] == ["embedding", "embedding"]
