"""Plugins registered for the duration of a test, without installing them: `register_plugin`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_registered: ContextVar[tuple[tuple[str, object], ...]] = ContextVar("aigne_hub_test_plugins", default=())


@contextmanager
def register_plugin(plugin: object, name: str | None = None) -> Iterator[str]:
    """Every hub a test starts inside the ``with`` block (`HubServer`, `hub_client`, the fixtures) loads
    `plugin` (a module, an object with ``@hookimpl`` methods, or a class instantiated per hub) as if it were
    installed under `name` (default: the module's or class's name). Yields the name."""
    plugin_name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    token = _registered.set((*_registered.get(), (plugin_name, plugin)))
    try:
        yield plugin_name
    finally:
        _registered.reset(token)


def registered_plugins() -> tuple[tuple[str, object], ...]:
    """The plugins `register_plugin` blocks around the caller have registered, outermost first."""
    return _registered.get()
