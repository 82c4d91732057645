"""Default credential injection and response normalization: both delegate to the route's provider."""

from __future__ import annotations

from typing import Any

from hub_core.hookspecs import hookimpl
from hub_core.providers.base import Normalizer
from hub_core.types import Caller, Route, UpstreamRequest


class ProviderUpstreamPlugin:
    @hookimpl(trylast=True)
    def prepare_upstream_request(self, upstream: UpstreamRequest, route: Route, caller: Caller) -> None:
        route.provider.apply_credential(upstream, route.credential)

    @hookimpl(trylast=True)
    def select_normalizer(
        self, route: Route, kind: str, stream: bool, payload: dict[str, Any]
    ) -> Normalizer | None:
        return route.provider.normalizer(kind, stream, route, payload)
