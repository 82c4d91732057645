"""Helpers for a provider plugin's own tests (its conftest.py and test modules): load a fake upstream that
sits beside the tests, start a hub routed to a fake, and point the official OpenAI SDK at a hub.

Every plugin installs the core, so plugin tests import these instead of copying them (and never import from
another plugin's tests).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from hub_core.testing.server import HubServer


def load_module(path: Path, name: str) -> ModuleType:
    """The Python file at `path` as module `name`, loaded once per process.

    Test directories are not packages under ``--import-mode=importlib``, so a fake that lives beside the tests
    is loaded by path; the fixed `name` lets the plugin's tests and the core's tests share one module (and so
    one class identity)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def provider_hub(
    hub_server_factory: Callable[..., HubServer],
    provider: str,
    fake: Any,
    *,
    base_url: str | None = None,
    credential: Any = None,
    plugins: Iterable[str] | None = None,
    **provider_fields: Any,
) -> HubServer:
    """A started hub whose `provider` points at `fake`: its ``base_url`` and ``credential`` unless given.

    The hub loads only `plugins` (default: the plugin named like the provider), not everything installed,
    so another installed plugin (an observer, an auth plugin) never runs in this plugin's tests."""
    server = hub_server_factory(plugins=(provider,) if plugins is None else plugins)
    server.add_provider(
        provider,
        base_url=fake.base_url if base_url is None else base_url,
        credential=fake.credential if credential is None else credential,
        **provider_fields,
    )
    return server


def openai_client(server: HubServer, *, role: str = "member", max_retries: int = 0) -> Any:
    """The official OpenAI SDK on the hub's ``/v1`` with a new key of `role`; no SDK retries by default, so a
    test sees the hub's first answer."""
    import openai

    return openai.OpenAI(
        base_url=f"{server.url}/v1", api_key=server.create_key(role=role), max_retries=max_retries
    )
