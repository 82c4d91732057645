"""A plugin with per-hub state, as a third party writes one: the entry point names the class
(``hubtest_plugins.perhub:CallCounter``), so every hub in the process gets an instance of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart import Blueprint

from hub_core import CallRecord, HubAPI, hookimpl


class CallCounter:
    """Counts the calls of the hub it belongs to, and remembers which hub that is."""

    def __init__(self) -> None:
        self.calls = 0
        self.hub: HubAPI | None = None

    @hookimpl
    def on_startup(self, hub: HubAPI) -> None:
        self.hub = hub

    @hookimpl
    def on_call_finished(self, record: CallRecord) -> None:
        self.calls += 1

    @hookimpl
    def register_routes(self, register: Callable[[Blueprint], None]) -> None:
        bp = Blueprint("hubtest_perhub", __name__, url_prefix="/hubtest-perhub")

        @bp.get("/count")
        async def count() -> dict[str, Any]:
            return {"calls": self.calls}

        register(bp)
