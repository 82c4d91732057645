"""The one typed way the core calls the request-pipeline and observer hooks.

Each method runs its hook the way the hook's spec declares (`hub_core.hookspecs.SEMANTICS`): first answer
wins, all in order, or observers isolated, failing closed or open. Registration hooks run once, in
`PluginHost.run_registrations`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hub_core.hookspecs import SEMANTICS

if TYPE_CHECKING:
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.providers.base import Normalizer
    from hub_core.types import Caller, CallRecord, Route, UpstreamRequest

Pending = list[tuple[str, Awaitable[Any]]]


class Hooks:
    """Typed calls of every hook after registration, bound to one `PluginHost`."""

    def __init__(self, host: PluginHost) -> None:
        self.host = host
        by_calling: dict[str, Callable[..., Awaitable[Any]]] = {
            "first": host.first,
            "all": host.each,
            "observe": host.observe,
        }
        self._run = {n: by_calling[s.calling] for n, s in SEMANTICS.items() if s.calling in by_calling}

    # --- request pipeline ---------------------------------------------------------------------------------

    async def auth_from_request(self, request: Any) -> Caller | None:
        return await self._run["auth_from_request"]("auth_from_request", request=request)

    async def select_route(
        self, model: str, kind: str, caller: Caller, exclude: frozenset[str] = frozenset()
    ) -> Route | None:
        return await self._run["select_route"](
            "select_route", model=model, kind=kind, caller=caller, exclude=exclude
        )

    async def prepare_upstream_request(self, upstream: UpstreamRequest, route: Route, caller: Caller) -> None:
        await self._run["prepare_upstream_request"](
            "prepare_upstream_request", upstream=upstream, route=route, caller=caller
        )

    async def select_normalizer(
        self, route: Route, kind: str, stream: bool, payload: dict[str, Any]
    ) -> Normalizer | None:
        return await self._run["select_normalizer"](
            "select_normalizer", route=route, kind=kind, stream=stream, payload=payload
        )

    # --- observers ----------------------------------------------------------------------------------------

    def on_call_finished_now(self, record: CallRecord) -> Pending | None:
        """Run the observers at once when all are plain functions (see `PluginHost.observe_now`); None, having
        run nothing, when one is ``async`` and `on_call_finished` must be awaited instead."""
        return self.host.observe_now("on_call_finished", record=record)

    async def on_call_finished(self, record: CallRecord) -> None:
        await self._run["on_call_finished"]("on_call_finished", record=record)

    async def finish_pending(self, pending: Pending) -> None:
        """Await what plain-function observers returned anyway (isolated, as `on_call_finished`)."""
        await self.host.observe_pending("on_call_finished", pending)

    async def on_startup(self) -> None:
        await self._run["on_startup"]("on_startup")

    async def on_shutdown(self) -> None:
        await self._run["on_shutdown"]("on_shutdown")
