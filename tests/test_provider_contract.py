"""The provider contract as a plugin author meets it: declared builders, declared optional methods with
their defaults, the request handed to the normalizer, and the default mapping of common vendor errors
(no sockets)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hub_core import HubError, Provider, Route, UpstreamRequest
from hub_core.providers import INPUT_IMAGES, InputImage, NormalizedResponse, Normalizer

CORE = Path(__file__).resolve().parents[1] / "hub_core"


class Echo(Normalizer):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self.payload = payload

    def parse(self, body: bytes) -> NormalizedResponse:
        return NormalizedResponse({"asked": self.payload}, self.usage)


class Acme(Provider):
    name = "acme"
    display_name = "Acme"
    capabilities = frozenset({"chat", "image"})

    def build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        return UpstreamRequest("POST", f"{route.base_url}/chat", json={**payload, "stream": stream})

    def build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        return UpstreamRequest("POST", f"{route.base_url}/draw", json=payload)

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        if kind == "chat":
            return Echo(payload)
        return super().normalizer(kind, stream, route, payload)


def route() -> Route:
    return Route(Acme(), "acme", "acme-1", "http://acme.test", None, None, {})


def test_build_request_calls_the_public_builder_of_the_kind():
    req = Acme().build_request("chat", {"messages": []}, route(), True)
    assert (req.url, req.json) == ("http://acme.test/chat", {"messages": [], "stream": True})
    assert Acme().build_request("image", {"prompt": "a cat"}, route(), False).url == "http://acme.test/draw"


@pytest.mark.parametrize("kind", ["embedding", "video", "count_tokens", "audio"])
def test_a_kind_the_provider_does_not_serve_is_400(kind: str):
    with pytest.raises(HubError) as err:
        Acme().build_request(kind, {}, route(), False)
    assert (err.value.status, err.value.code) == (400, "unsupported_operation")


def test_a_declared_capability_without_its_builder_is_400_not_an_attribute_error():
    class Half(Acme):
        capabilities = frozenset({"chat", "embedding"})

    with pytest.raises(HubError) as err:
        Half().build_request("embedding", {"input": "x"}, route(), False)
    assert (err.value.status, err.value.code) == (400, "unsupported_operation")


def test_an_image_edit_is_refused_before_a_builder_that_cannot_edit_runs():
    payload = {"prompt": "a hat", INPUT_IMAGES: [InputImage(b"png", "image/png", "cat.png")]}
    with pytest.raises(HubError, match="image editing") as err:
        Acme().build_request("image", payload, route(), False)
    assert err.value.status == 400


def test_the_normalizer_gets_the_request_as_an_argument():
    payload = {"messages": [{"role": "user", "content": "hi"}], "encoding_format": "base64"}
    normalizer = Acme().normalizer("chat", False, route(), payload)
    assert normalizer.parse(b"{}").json() == {"asked": payload}
    with pytest.raises(HubError) as err:
        Acme().normalizer("video", False, route(), {})
    assert err.value.code == "unsupported_operation"


def test_optional_methods_are_declared_with_their_defaults():
    acme = Acme()
    assert acme.model_for("gpt-4o") is NotImplemented  # the hub's own rules decide
    assert acme.models_request(route()) is None and acme.parse_models(b"{}") == []
    assert acme.standard_extensions == frozenset()
    assert acme.video_job(json.dumps({"id": "v1", "status": "queued"}).encode())["id"] == "v1"
    for method in (acme.video_poll_request, acme.video_content_request):
        with pytest.raises(HubError) as err:
            method(route(), {"id": "v1"})
        assert (err.value.status, err.value.code) == (400, "unsupported_operation")


def test_the_core_finds_no_provider_method_by_name():
    """Everything the core calls on a provider is declared on `Provider`: no getattr/hasattr discovery."""
    found = []
    for path in CORE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"(getattr|hasattr)\([^,]*provider", line) and "name" not in line:
                found.append(f"{path.relative_to(CORE)}:{number}: {line.strip()}")
            if "_build_" in line:
                found.append(f"{path.relative_to(CORE)}:{number}: {line.strip()}")
    assert found == []


def error(status: int, headers: dict[str, str] | None = None, message: str = "nope") -> HubError:
    return Acme().map_error(status, json.dumps({"error": {"message": message}}).encode(), headers or {})


def test_common_vendor_errors_have_defaults():
    paid = error(402, message="Insufficient Balance")
    assert (paid.status, paid.code, paid.type) == (502, "upstream_payment_required", "upstream_error")
    assert "Insufficient Balance" in paid.full_message and paid.extra["upstream_status"] == 402
    assert (error(408).status, error(408).code) == (504, "upstream_timeout")
    overloaded = error(529, {"retry-after": "7"})
    assert (overloaded.status, overloaded.code) == (503, "upstream_overloaded")
    assert overloaded.headers == {"Retry-After": "7"}
    assert error(429, {"retry-after": "3"}).headers == {"Retry-After": "3"}  # whatever the header's case
    assert (error(401).status, error(401).code) == (502, "upstream_auth_failed")
    assert "nope" not in error(401).message  # the vendor's text stays in the hub's records
    assert (error(404).code, error(413).code, error(422).code) == (
        "model_not_found",
        "request_too_large",
        "upstream_bad_request",
    )
    assert (error(500).status, error(500).code) == (502, "upstream_error")
