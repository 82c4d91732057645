"""Fixtures shared by the Anthropic provider's tests: the fake Anthropic upstream, a hub routed to it and an
OpenAI SDK client for the hub's ``/v1`` API. Nothing here needs another provider plugin."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import openai
import pytest

from hub_core.testing.server import HubServer

FAKE_MODULE = "hub_provider_anthropic_fake"


def load_fake_module() -> ModuleType:
    """`fake_anthropic.py` as a module (tests directories are not packages; the core's tests load it too)."""
    if FAKE_MODULE in sys.modules:
        return sys.modules[FAKE_MODULE]
    spec = importlib.util.spec_from_file_location(FAKE_MODULE, Path(__file__).with_name("fake_anthropic.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[FAKE_MODULE] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_anthropic() -> Iterator[Any]:
    """A running `FakeAnthropic` (its own thread and loop)."""
    with load_fake_module().fake_in_thread() as fake:
        yield fake


@pytest.fixture
def provider_fake(fake_anthropic: Any) -> Any:
    """The fake under the name `hub_core.testing.conformance` expects."""
    return fake_anthropic


@pytest.fixture
def anthropic_hub(hub_server_factory: Callable[..., HubServer], fake_anthropic: Any) -> HubServer:
    """A running hub whose ``anthropic`` provider points at the fake."""
    server = hub_server_factory()
    server.add_provider("anthropic", base_url=fake_anthropic.base_url, credential=fake_anthropic.api_key)
    return server


@pytest.fixture
def client(anthropic_hub: HubServer) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the hub's ``/v1`` with a member's key."""
    return openai.OpenAI(
        base_url=f"{anthropic_hub.url}/v1", api_key=anthropic_hub.create_key(), max_retries=0
    )
