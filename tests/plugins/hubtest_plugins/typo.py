"""A plugin with a misspelt hook name (``register_provider``): refused at load time with the reason, instead
of being silently ignored."""

from __future__ import annotations

from collections.abc import Callable

from hub_core import Provider, hookimpl


@hookimpl
def register_provider(register: Callable[[Provider], None]) -> None:
    raise AssertionError("never called")
