"""A plugin that records, for every hook it implements, the ``hub`` and ``config`` it was given, the way a
third-party observer would read them (no ``current_hub()``, no module-level configuration)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub_core import CallRecord, HubAPI, hookimpl

config_schema: dict[str, Any] = {
    "type": "object",
    "properties": {"label": {"type": "string", "default": "witness-default"}},
}

#: (hook, hub, config, extra) in call order
SEEN: list[tuple[str, HubAPI, dict[str, Any], Any]] = []


@hookimpl
def register_routes(register: Callable[..., None], hub: HubAPI, config: dict[str, Any]) -> None:
    SEEN.append(("register_routes", hub, config, None))


@hookimpl
async def on_startup(hub: HubAPI, config: dict[str, Any]) -> None:
    SEEN.append(("on_startup", hub, config, None))


@hookimpl
def select_route(model: str, hub: HubAPI, config: dict[str, Any]) -> None:
    SEEN.append(("select_route", hub, config, model))


@hookimpl
async def on_call_finished(record: CallRecord, hub: HubAPI, config: dict[str, Any]) -> None:
    # an async observer runs in a task off the response path: outside the request's app context
    SEEN.append(("on_call_finished", hub, config, record.status))


@hookimpl
def on_shutdown(hub: HubAPI, config: dict[str, Any]) -> None:
    SEEN.append(("on_shutdown", hub, config, None))
