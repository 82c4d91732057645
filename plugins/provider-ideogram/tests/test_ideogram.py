"""Ideogram through the hub's image APIs, with the official openai SDK (and plain HTTP for AIGNE's
``/api/v2/image``) as the clients: the form translation, base URL forms, safety and Ideogram's errors."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import hub_provider_ideogram as ideogram
import openai
import pytest

from hub_core.testing import PNG_1PX, HubServer, openai_client


def sdk(server: HubServer) -> openai.OpenAI:
    return openai_client(server)


def test_request_becomes_ideograms_form(client: openai.OpenAI, provider_fake: Any) -> None:
    result = client.images.generate(
        model="ideogram/ideogram-v3-turbo",
        prompt="a lighthouse",
        n=2,
        size="1792x1024",
        extra_body={
            "negative_prompt": "people",
            "style_type": "REALISTIC",
            "seed": 7,
            "style_codes": ["AB12CD34", "00ff00ff"],
            "color_palette": {"name": "EMBER"},
        },
    )
    assert provider_fake.forms[-1] == {
        "prompt": "a lighthouse",
        "rendering_speed": "TURBO",
        "num_images": "2",
        "aspect_ratio": "16x9",
        "negative_prompt": "people",
        "style_type": "REALISTIC",
        "seed": "7",
        "style_codes": ["AB12CD34", "00ff00ff"],
        "color_palette": '{"name":"EMBER"}',
    }
    assert provider_fake.last.path == "/v1/ideogram-v3/generate"
    assert provider_fake.last.headers["Api-Key"] == provider_fake.api_key
    assert "Authorization" not in provider_fake.last.headers
    assert [d.url for d in result.data] == [
        f"{provider_fake.base_url}/ephemeral/image-{i}.png" for i in range(2)
    ]
    assert result.data[0].revised_prompt == "a lighthouse, detailed illustration"
    assert result.created == 1748779200, "Ideogram's ISO time as epoch seconds"


def test_images_can_be_downloaded_from_the_urls(client: openai.OpenAI) -> None:
    url = client.images.generate(model="ideogram/ideogram-v3", prompt="a cat").data[0].url
    with urllib.request.urlopen(url or "", timeout=10) as resp:
        assert resp.read() == PNG_1PX


@pytest.mark.parametrize(
    ("size", "fields"),
    [
        ("1024x1024", {"resolution": "1024x1024"}),
        ("1312x736", {"resolution": "1312x736"}),
        ("1536x1024", {"aspect_ratio": "3x2"}),
        ("1024x1536", {"aspect_ratio": "2x3"}),
        ("256x256", {"aspect_ratio": "1x1"}),
        ("auto", {}),
    ],
)
def test_size_becomes_a_resolution_or_the_nearest_aspect_ratio(
    client: openai.OpenAI, provider_fake: Any, size: str, fields: dict[str, str]
) -> None:
    client.images.generate(model="ideogram/ideogram-v3", prompt="a cat", size=size)  # type: ignore[arg-type]
    form = provider_fake.forms[-1]
    assert {k: form[k] for k in ("resolution", "aspect_ratio") if k in form} == fields


def test_explicit_aspect_ratio_wins_over_size(client: openai.OpenAI, provider_fake: Any) -> None:
    client.images.generate(
        model="ideogram/ideogram-v3", prompt="a cat", size="1024x1024", extra_body={"aspect_ratio": "9x16"}
    )
    form = provider_fake.forms[-1]
    assert form["aspect_ratio"] == "9x16" and "resolution" not in form


@pytest.mark.parametrize(
    ("model", "quality", "speed"),
    [
        ("ideogram-v3", None, None),
        ("ideogram-v3", "hd", "QUALITY"),
        ("ideogram-v3", "low", "TURBO"),
        ("ideogram-v3-quality", None, "QUALITY"),
        ("ideogram-v3-turbo", "high", "TURBO"),
    ],
)
def test_rendering_speed_from_the_model_or_quality(
    client: openai.OpenAI, provider_fake: Any, model: str, quality: str | None, speed: str | None
) -> None:
    extra = {"quality": quality} if quality else {}
    client.images.generate(model=f"ideogram/{model}", prompt="a cat", **extra)  # type: ignore[arg-type]
    assert provider_fake.forms[-1].get("rendering_speed") == speed


def test_b64_json_is_answered_with_urls(client: openai.OpenAI) -> None:
    """Documented limitation: Ideogram only hands out URLs, and fetching them would be a second request."""
    result = client.images.generate(model="ideogram/ideogram-v3", prompt="a cat", response_format="b64_json")
    assert result.data[0].url and result.data[0].b64_json is None


def test_more_images_than_ideogram_makes_are_refused_here(client: openai.OpenAI, provider_fake: Any) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="ideogram/ideogram-v3", prompt="a cat", n=9)
    assert "1 to 8 images" in info.value.body["message"]
    assert provider_fake.requests == []


@pytest.mark.parametrize(
    "base",
    ["{fake}", "{fake}/v1", "{fake}/v1/", "{fake}/v1/ideogram-v3/generate"],
    ids=["host", "root", "slash", "endpoint"],
)
def test_every_base_url_form_reaches_the_endpoint(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any, base: str
) -> None:
    server = hub_server_factory()
    server.add_provider(
        "ideogram", base_url=base.format(fake=provider_fake.base_url), credential=provider_fake.api_key
    )
    assert sdk(server).images.generate(model="ideogram/ideogram-v3", prompt="a cat").data[0].url
    assert provider_fake.last.path == "/v1/ideogram-v3/generate"


def test_default_base_url_is_the_api_root() -> None:
    provider = ideogram.IdeogramProvider()
    assert provider.default_base_url == "https://api.ideogram.ai/v1"
    assert (
        ideogram.generate_url(provider.default_base_url) == "https://api.ideogram.ai/v1/ideogram-v3/generate"
    )


def test_unsafe_images_are_dropped_and_not_counted(client: openai.OpenAI, ideogram_hub: HubServer) -> None:
    result = client.images.generate(model="ideogram/ideogram-v3", prompt="partly-unsafe", n=2)
    assert [d.url for d in result.data] == [result.data[0].url] and result.data[0].url.endswith("image-1.png")
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="ideogram/ideogram-v3", prompt="unsafe")
    assert info.value.body["code"] == "content_policy_violation"
    rows = ideogram_hub.wait_for_calls(2)
    assert [(r["status"], r["images"]) for r in rows] == [("success", 1), ("error", 0)]


@pytest.mark.parametrize(
    ("prompt", "status", "code", "text"),
    [
        ("safety", 400, "content_policy_violation", "failed the safety checks"),
        ("no-credit", 502, "upstream_payment_required", "Insufficient credits"),
    ],
)
def test_ideogram_errors(client: openai.OpenAI, prompt: str, status: int, code: str, text: str) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.images.generate(model="ideogram/ideogram-v3", prompt=prompt)
    assert (info.value.status_code, info.value.body["code"]) == (status, code)
    assert text in info.value.body["message"]


def test_invalid_input_tells_the_client_what_ideogram_said(client: openai.OpenAI, provider_fake: Any) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(
            model="ideogram/ideogram-v3", prompt="a cat", extra_body={"style_type": "ANIME"}
        )
    assert info.value.body["code"] == "upstream_bad_request"
    assert "style_type must be one of" in info.value.body["message"]


def test_a_refused_key_is_a_refused_credential(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any
) -> None:
    server = hub_server_factory()
    server.add_provider("ideogram", base_url=provider_fake.base_url, credential="wrong-key")
    with pytest.raises(openai.APIStatusError) as info:
        sdk(server).images.generate(model="ideogram/ideogram-v3", prompt="a cat")
    assert (info.value.status_code, info.value.body["code"]) == (502, "upstream_auth_failed")


def test_env_key(
    hub_server_factory: Callable[..., HubServer], provider_fake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEOGRAM_API_KEY", provider_fake.api_key)
    server = hub_server_factory()
    server.add_provider("ideogram", base_url=provider_fake.base_url)
    assert sdk(server).images.generate(model="ideogram/ideogram-v3", prompt="a cat").data[0].url


def test_chat_is_not_offered(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="ideogram/ideogram-v3", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.body["code"] == "unsupported_operation"


def test_aigne_image_api(ideogram_hub: HubServer, provider_fake: Any) -> None:
    """AIGNE's ``/api/v2/image`` asks for base64; Ideogram's URLs come back as URL files."""
    body = {
        "input": {
            "prompt": "a cat",
            "n": 2,
            "size": "1024x1024",
            "modelOptions": {"model": "ideogram/ideogram-v3"},
        }
    }
    req = urllib.request.Request(
        f"{ideogram_hub.url}/api/v2/image",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {ideogram_hub.create_key()}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        answer = json.loads(resp.read())
    assert [i["type"] for i in answer["images"]] == ["url", "url"]
    assert answer["images"][0]["url"] == f"{provider_fake.base_url}/ephemeral/image-0.png"
    assert provider_fake.forms[-1]["resolution"] == "1024x1024"
