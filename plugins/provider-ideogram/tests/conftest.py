"""Fixtures of the Ideogram provider's tests: the fake Ideogram API, a hub routed to it and an OpenAI SDK
client for the hub's ``/v1`` API. Nothing here needs another provider plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from hub_core.testing import HubServer, load_module, openai_client, provider_hub


@pytest.fixture
def provider_fake() -> Iterator[Any]:
    """A running `FakeIdeogram` (its own thread and loop); its ``base_url`` is the bare host."""
    fake_module = load_module(Path(__file__).with_name("fake_ideogram.py"), "hub_provider_ideogram_fake")
    with fake_module.FakeIdeogram().in_thread() as fake:
        yield fake


@pytest.fixture
def ideogram_hub(hub_server_factory: Callable[..., HubServer], provider_fake: Any) -> HubServer:
    """A running hub whose ``ideogram`` provider points at the fake's API root (``.../v1``)."""
    return provider_hub(
        hub_server_factory, "ideogram", provider_fake, base_url=f"{provider_fake.base_url}/v1"
    )


@pytest.fixture
def client(ideogram_hub: HubServer) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the hub's ``/v1`` with a member's key, no SDK retries."""
    return openai_client(ideogram_hub)
