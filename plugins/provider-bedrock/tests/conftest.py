"""Fixtures of the Bedrock provider's tests: the fake Bedrock Runtime, a hub routed to it and an OpenAI SDK
client for the hub's ``/v1`` API. Nothing here needs another provider plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import openai
import pytest

from hub_core.testing import HubServer, load_module, openai_client, provider_hub


@pytest.fixture
def fake_module() -> ModuleType:
    """`fake_bedrock.py` (its constants: key pair, region, reasoning text ...)."""
    return load_module(Path(__file__).with_name("fake_bedrock.py"), "hub_provider_bedrock_fake")


@pytest.fixture
def provider_fake(fake_module: ModuleType) -> Iterator[Any]:
    """A running `FakeBedrock` (its own thread and loop), scoped to region ``eu-central-1``."""
    with fake_module.FakeBedrock().in_thread() as fake:
        yield fake


@pytest.fixture
def bedrock_hub(hub_server_factory: Callable[..., HubServer], provider_fake: Any) -> HubServer:
    """A running hub whose ``bedrock`` provider points at the fake with the fake's key pair."""
    return provider_hub(hub_server_factory, "bedrock", provider_fake)


@pytest.fixture
def client(bedrock_hub: HubServer) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the hub's ``/v1`` with a member's key, no SDK retries."""
    return openai_client(bedrock_hub)
