"""Failover: the attempts of one call, each routed to a provider the call has not tried yet.

The gateway writes one attempt as ``route → billing admission → upstream call`` inside::

    for attempt in Attempts(ctx, health, billing):
        async with attempt:
            route = await self.route(ctx, model, kind, exclude=attempt.exclude)
            ...

Leaving the block records the outcome (`ProviderHealth`) and decides: success ends the loop; an upstream
failure that another provider may not have (5xx, timeouts, 429, a refused credential, an unknown model) or a
refusal of that one route before it was called (a 400 from admission: no rate for that provider) is
swallowed, its billing hold released, and the next attempt excludes the provider; anything else (the
caller's own errors: a 4xx the vendor blamed on the request, 402 insufficient credits, content policy)
propagates. When routing has no other provider, the last failure is what the client gets. Streams only
fail over before they start (`Gateway.call_stream` returns once the upstream answered with a 200): nothing
was sent to the client yet.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

import structlog

from hub_core.errors import HubError
from hub_core.routing.health import classify, is_upstream, tag_upstream_error

if TYPE_CHECKING:
    from hub_core.billing.manager import BillingManager
    from hub_core.pipeline.gateway import CallContext
    from hub_core.routing.health import ProviderHealth
    from hub_core.types import Route

__all__ = ["MAX_ATTEMPTS", "Attempt", "Attempts", "tag_upstream_error"]

log = structlog.get_logger("hub_core.pipeline.failover")

#: attempts per call at most (every attempt excludes one more provider, so this only bounds odd plugins)
MAX_ATTEMPTS = 8


class Attempts:
    """Iterate to get the attempts of one call; stops after a success, ends by raising after a failure."""

    def __init__(self, ctx: CallContext, health: ProviderHealth, billing: BillingManager) -> None:
        self.ctx = ctx
        self.health = health
        self.billing = billing
        self.tried: list[str] = []
        self.count = 0
        self.done = False
        self.error: HubError | None = None  # the failure the client gets when no provider is left
        self.failures: list[dict[str, object]] = []

    def __iter__(self) -> Attempts:
        return self

    def __next__(self) -> Attempt:
        if self.done:
            raise StopIteration
        self.count += 1
        return Attempt(self)

    async def release(self) -> None:
        """Release the failed attempt's billing hold (it produced nothing) before the next admission."""
        ctx = self.ctx
        if ctx.hold is None:
            return
        await self.billing.settle(ctx.hold, ctx.record)
        ctx.hold = None
        ctx.record.extra.pop("billing_call_id", None)


class Attempt:
    def __init__(self, run: Attempts) -> None:
        self.run = run
        #: providers this attempt must not route to (pass to ``select_route``)
        self.exclude = frozenset(run.tried)
        self._route: Route | None = None
        self._t0 = 0.0

    async def __aenter__(self) -> Attempt:
        self._route = self.run.ctx.route
        self._t0 = time.perf_counter()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        run = self.run
        ctx = run.ctx
        route = ctx.route
        elapsed = (time.perf_counter() - self._t0) * 1000
        run.done = True
        fresh = route is not None and route is not self._route  # routing gave this attempt a provider
        if fresh and run.failures:
            ctx.record.extra["failover"] = list(run.failures)
            log.info("failed over", failed=[f["provider"] for f in run.failures], to=ctx.record.provider)
        if exc is None:
            if route is not None:
                run.health.record_success(route, ctx.record.kind, elapsed)
            return False
        if not isinstance(exc, HubError):
            return False  # cancellation or a bug: never retried
        if route is None or not fresh:
            # routing found no (other) provider for this attempt: the previous attempt's failure stands
            if run.error is not None and run.error is not exc:
                raise run.error
            return False
        outcome = classify(exc)
        if outcome is not None:
            run.health.record_failure(route, ctx.record.kind, outcome, exc, elapsed)
        elif is_upstream(exc) or exc.status != 400:
            return False  # the caller's own error (or the hub's): another provider would not help
        if run.count >= MAX_ATTEMPTS:
            return False
        if outcome is not None or run.error is None:  # an upstream failure says more than a refusal
            run.error = exc
        run.tried.append(route.provider_name)
        run.failures.append(
            {"provider": route.provider_name, "model": route.model, "status": exc.status, "code": exc.code}
        )
        await run.release()
        run.done = False
        return True
