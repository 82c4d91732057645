"""Fixtures of the Ideogram provider's tests: the fake Ideogram API, a hub routed to it and an OpenAI SDK
client for the hub's ``/v1`` API. Nothing here needs another provider plugin."""

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

FAKE_MODULE = "hub_provider_ideogram_fake"


def load_fake_module() -> ModuleType:
    """`fake_ideogram.py` as a module (test directories are no packages under ``--import-mode=importlib``)."""
    if FAKE_MODULE in sys.modules:
        return sys.modules[FAKE_MODULE]
    spec = importlib.util.spec_from_file_location(FAKE_MODULE, Path(__file__).with_name("fake_ideogram.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[FAKE_MODULE] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def provider_fake() -> Iterator[Any]:
    """A running `FakeIdeogram` (its own thread and loop); its ``base_url`` is the bare host."""
    with load_fake_module().FakeIdeogram().in_thread() as fake:
        yield fake


@pytest.fixture
def ideogram_hub(hub_server_factory: Callable[..., HubServer], provider_fake: Any) -> HubServer:
    """A running hub whose ``ideogram`` provider points at the fake's API root (``.../v1``)."""
    server = hub_server_factory()
    server.add_provider(
        "ideogram", base_url=f"{provider_fake.base_url}/v1", credential=provider_fake.credential
    )
    return server


@pytest.fixture
def client(ideogram_hub: HubServer) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the hub's ``/v1`` with a member's key, no SDK retries."""
    return openai.OpenAI(base_url=f"{ideogram_hub.url}/v1", api_key=ideogram_hub.create_key(), max_retries=0)
