"""An OpenAI-compatible endpoint added as data (no plugin) through the same conformance matrix as the provider
plugins: replies, streams, tools, images, usage details, upstream failures and every client dialect, against
a fake speaking OpenAI's dialect that the hub was pointed at through the admin API."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub_core.testing import (
    ChatConformance,
    EmbeddingConformance,
    HubServer,
    ImageConformance,
    OpenAIDialectFake,
    ProviderCase,
)
from hub_core.types import Usage

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.http import call


class FakeEndpoint(OpenAIDialectFake):
    model_ids = ("served-chat", "served-embed", "served-image")


@pytest.fixture
def provider_fake() -> Iterator[OpenAIDialectFake]:
    with FakeEndpoint().in_thread() as fake:
        yield fake


CASE = ProviderCase(
    "endpoint",
    chat_model="served-chat",
    embedding_model="served-embed",
    image_model="served-image",
    usage_details=Usage(input_tokens=100, output_tokens=50, cached_input_tokens=40, reasoning_tokens=20),
    capabilities=frozenset({"chat", "embedding", "image"}),
    listed_model="served-chat",
)


class _AddedAsData:
    case = CASE

    @pytest.fixture
    def conformance_hub(
        self, hub_server_factory: Callable[..., HubServer], provider_fake: OpenAIDialectFake
    ) -> HubServer:
        server = hub_server_factory()
        body = {
            "kind": "openai_compatible",
            "name": CASE.provider,
            "baseUrl": provider_fake.base_url,
            "apiKey": provider_fake.credential,
        }
        added = call("POST", f"{server.url}/api/ai-providers", key=server.admin_key, json_body=body)
        assert added.status == 201, added.text
        return server

    def test_provider_is_described(self, conformance_hub: HubServer) -> None:
        """Not an installed plugin: the record describes it, with the models its upstream listed."""
        listed = call("GET", f"{conformance_hub.url}/api/ai-providers", key=conformance_hub.admin_key).body
        (record,) = listed
        assert (record["kind"], record["plugin"], record["pluginEnabled"]) == (
            "openai_compatible",
            "openai_compatible",
            True,
        )
        models = call(
            "GET",
            f"{conformance_hub.url}/api/ai-providers/{record['id']}/models",
            key=conformance_hub.admin_key,
        )
        assert set(FakeEndpoint.model_ids) <= set(models.body["upstream"]), json.dumps(models.body)


class TestEndpointChat(_AddedAsData, ChatConformance):
    pass


class TestEndpointEmbeddings(_AddedAsData, EmbeddingConformance):
    pass


class TestEndpointImages(_AddedAsData, ImageConformance):
    pass
