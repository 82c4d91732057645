"""The OpenAI plugin through the shared conformance matrix, against a fake speaking OpenAI's own dialect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub_core.testing import (
    ChatConformance,
    EmbeddingConformance,
    ImageConformance,
    OpenAIDialectFake,
    ProviderCase,
)


class FakeOpenAIVendor(OpenAIDialectFake):
    model_ids = ("gpt-4o-mini", "text-embedding-3-small", "dall-e-3")


@pytest.fixture
def provider_fake() -> Iterator[OpenAIDialectFake]:
    with FakeOpenAIVendor().in_thread() as fake:
        yield fake


CASE = ProviderCase(
    "openai",
    chat_model="gpt-4o-mini",
    embedding_model="text-embedding-3-small",
    image_model="dall-e-3",
    capabilities=frozenset({"chat", "embedding", "image", "image_edit", "video"}),
    listed_model="gpt-4o-mini",
)


class TestOpenAIChat(ChatConformance):
    case = CASE


class TestOpenAIEmbeddings(EmbeddingConformance):
    case = CASE


class TestOpenAIImages(ImageConformance):
    case = CASE
