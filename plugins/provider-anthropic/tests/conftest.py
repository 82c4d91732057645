"""Fixtures shared by the Anthropic provider's tests: the fake Anthropic upstream, a hub routed to it and an
OpenAI SDK client for the hub's ``/v1`` API. Nothing here needs another provider plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from hub_core.testing import HubServer, load_module, openai_client, provider_hub


@pytest.fixture
def fake_anthropic() -> Iterator[Any]:
    """A running `FakeAnthropic` (its own thread and loop). The core's tests load `fake_anthropic.py` under
    the same module name, so both share one module."""
    fake_module = load_module(Path(__file__).with_name("fake_anthropic.py"), "hub_provider_anthropic_fake")
    with fake_module.fake_in_thread() as fake:
        yield fake


@pytest.fixture
def provider_fake(fake_anthropic: Any) -> Any:
    """The fake under the name `hub_core.testing.conformance` expects."""
    return fake_anthropic


@pytest.fixture
def anthropic_hub(hub_server_factory: Callable[..., HubServer], fake_anthropic: Any) -> HubServer:
    """A running hub whose ``anthropic`` provider points at the fake."""
    return provider_hub(hub_server_factory, "anthropic", fake_anthropic)


@pytest.fixture
def client(anthropic_hub: HubServer) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the hub's ``/v1`` with a member's key."""
    return openai_client(anthropic_hub)
