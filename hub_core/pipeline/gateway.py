"""The call pipeline shared by every API dialect.

authenticate → begin (a `CallContext`) → route → open the upstream (build, prepare hook, normalizer hook,
send, map errors) → read or stream → finish (exactly one `on_call_finished` per call). Dialect blueprints only
translate requests and render answers; they never talk to providers themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

import aiohttp
import structlog

from hub_core.billing.contracts import Hold
from hub_core.billing.manager import BillingManager
from hub_core.errors import HubError, model_not_found, unauthorized
from hub_core.infra.crypto import mask
from hub_core.infra.hooks import Hooks
from hub_core.infra.logging import bind, emit
from hub_core.infra.upstream import UpstreamClient, UpstreamResponse
from hub_core.pipeline.context import current_request, request_header, request_id_from
from hub_core.pipeline.failover import Attempts, tag_upstream_error
from hub_core.providers.base import Chunk, NormalizedResponse, Normalizer
from hub_core.routing.health import ProviderHealth
from hub_core.types import Caller, CallRecord, Route, UpstreamRequest

if TYPE_CHECKING:
    from quart import Request

    from hub_core.config import Settings
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.runtime.state import RuntimeState

log = structlog.get_logger("hub_core.pipeline.gateway")


class CallContext:
    """One API call in flight: who, what, where, and the record that will be logged."""

    __slots__ = ("_t0", "caller", "finished", "hold", "record", "route")

    def __init__(self, caller: Caller, record: CallRecord) -> None:
        self.caller = caller
        self.record = record
        self.route: Route | None = None
        self.finished = False
        self._t0 = time.perf_counter()
        self.hold: Hold | None = None  # the billing mode's admission (hub_core.billing.manager)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000

    def first_byte(self) -> None:
        if self.record.ttfb_ms is None:
            self.record.ttfb_ms = self.elapsed_ms()


class Gateway:
    def __init__(
        self,
        settings: Settings,
        host: PluginHost,
        state: RuntimeState,
        upstream: UpstreamClient,
        health: ProviderHealth | None = None,
    ):
        self.settings = settings
        self.host = host
        self.state = state
        self.upstream = upstream
        self._finishing: set[asyncio.Task[None]] = set()
        self.hooks = Hooks(host)
        self.billing = BillingManager(settings, host, state)
        #: the hub's public base URL as the current request sees it (payment links); set by the web layer
        self.base_url_of: Callable[[], str] = str
        #: a future for "this call's usage row is written" (`UsageLogWriter.watch`), set by the hub; a billed
        #: call's charge waits for it
        self.usage_written: Callable[[CallRecord], asyncio.Future[bool]] | None = None
        self.health = health or ProviderHealth(settings, host, state, upstream)  # failover, cool-downs

    async def authenticate(self, request: Request) -> Caller:
        await self.state.check_for_changes()
        caller = await self.hooks.auth_from_request(request)
        if caller is None:
            raise unauthorized()
        return caller

    def begin(
        self, request: Request, caller: Caller, *, endpoint: str, kind: str, model: str, stream: bool = False
    ) -> CallContext:
        record = CallRecord(
            request_id=request_id_of(request),
            endpoint=endpoint,
            kind=kind,
            model=model,
            user_id=caller.user_id,
            key_id=caller.key_id,
            app_did=app_did_of(request, caller),
            stream=stream,
        )
        return CallContext(caller, record)

    async def route(
        self, ctx: CallContext, model: str, kind: str, exclude: frozenset[str] = frozenset()
    ) -> Route:
        route = await self.hooks.select_route(model, kind, ctx.caller, exclude)
        if route is None or route.provider_name in exclude:
            raise model_not_found(model)
        if not route.provider.supports(kind):
            raise HubError(
                400, "unsupported_operation", f"Provider {route.provider_name} does not support {kind}"
            )
        ctx.route = route
        rec = ctx.record
        rec.provider, rec.provider_id, rec.upstream_model = (
            route.provider_name,
            route.provider_id,
            route.model,
        )
        rec.credential_id = route.credential.id if route.credential else None
        bind(provider=route.provider_name, model=route.model)
        return route

    async def _open(
        self, ctx: CallContext, route: Route, payload: dict[str, Any], stream: bool
    ) -> tuple[UpstreamResponse, Normalizer]:
        kind = ctx.record.kind
        upstream_req = route.provider.build_request(kind, payload, route, stream)
        await self.hooks.prepare_upstream_request(upstream_req, route, ctx.caller)
        normalizer = await self.hooks.select_normalizer(route, kind, stream, payload)
        if normalizer is None:
            raise HubError(502, "no_normalizer", f"No normalizer for {route.provider_name} {kind}")
        label = route.provider.display_name or route.provider_name
        resp = await self.upstream.send(upstream_req, label)
        if resp.status >= 400:
            body = await _error_body(resp)
            err = tag_upstream_error(route.provider.map_error(resp.status, body, dict(resp.headers)), resp)
            raise _redact(err, route)
        if resp.content_type == "text/html":  # a proxy's or captive portal's page, never a provider's answer
            resp.close()
            raise malformed_error(f"{label} answered with an HTML page")
        return resp, normalizer

    async def complete(self, ctx: CallContext, route: Route, payload: dict[str, Any]) -> NormalizedResponse:
        """A non-streaming call: the provider's answer in the standard shape, usage recorded on `ctx`."""
        resp, normalizer = await self._open(ctx, route, payload, stream=False)
        body = await _body(resp)
        try:
            result = normalizer.parse(body)
        except UNREADABLE as exc:
            raise malformed_error(f"{resp.label} sent an answer the hub cannot read", exc) from exc
        ctx.record.usage = result.usage
        return result

    async def open_stream(self, ctx: CallContext, route: Route, payload: dict[str, Any]) -> UpstreamStream:
        """Start a streaming call. Errors known before the first byte raise here, as HTTP errors."""
        resp, normalizer = await self._open(ctx, route, payload, stream=True)
        label = route.provider.display_name or route.provider_name
        return UpstreamStream(ctx, resp, normalizer, label, self.settings.upstream_max_event_bytes)

    async def call_json(
        self, ctx: CallContext, model: str, payload: dict[str, Any], *, then: FollowUp | None = None
    ) -> NormalizedResponse:
        """Route and run a non-streaming call, finishing its record whatever happens (all dialects).

        `then(route, result)` continues a call that takes more than one upstream request (an asynchronous
        job: poll it, download its result, through `follow_up`) inside the same record.
        """
        try:
            for attempt in Attempts(ctx, self.health, self.billing):  # failover: hub_core.routing
                async with attempt:
                    route = await self.route(ctx, model, ctx.record.kind, exclude=attempt.exclude)
                    await self.admit(ctx, payload)
                    result = await self.complete(ctx, route, payload)
            if then is not None:
                result = await then(route, result)
        except BaseException as exc:
            self.finish(ctx, exc, aborted=not isinstance(exc, Exception))  # cancelled: the client left
            raise
        self.finish(ctx)
        return result

    async def admit(self, ctx: CallContext, payload: dict[str, Any]) -> None:
        """Ask the billing mode to admit the call; a hold it makes is the call's from here on (`finish`
        settles it) and the HTTP request's, for the cost header on the answer."""
        hold = await self.billing.admit(ctx.caller, ctx.record, payload, self.base_url_of)
        if hold is not None:
            ctx.hold = hold
            info = current_request()
            if info is not None:
                info.call = ctx

    async def follow_up(self, ctx: CallContext, route: Route, upstream_req: UpstreamRequest) -> bytes:
        """A further upstream request of a routed call (polling a job, downloading its result): the same
        credential hook and error mapping as the first request. Returns the body."""
        await self.hooks.prepare_upstream_request(upstream_req, route, ctx.caller)
        label = route.provider.display_name or route.provider_name
        resp = await self.upstream.send(upstream_req, label)
        if resp.status >= 400:
            body = await _error_body(resp)
            raise _redact(route.provider.map_error(resp.status, body, dict(resp.headers)), route)
        return await _body(resp)

    async def call_stream(self, ctx: CallContext, model: str, payload: dict[str, Any]) -> UpstreamStream:
        """Route and open a streaming call. Errors before the first byte raise here (an HTTP error for the
        client); after that, `relay` owns finishing the record."""
        try:
            for attempt in Attempts(ctx, self.health, self.billing):  # failover before the first byte
                async with attempt:
                    route = await self.route(ctx, model, ctx.record.kind, exclude=attempt.exclude)
                    await self.admit(ctx, payload)
                    return await self.open_stream(ctx, route, payload)
            raise AssertionError("unreachable: the last attempt returns or raises")
        except BaseException as exc:
            self.finish(ctx, exc, aborted=not isinstance(exc, Exception))  # cancelled: the client left
            raise

    async def relay(
        self, ctx: CallContext, upstream: UpstreamStream, render: StreamRenderer
    ) -> AsyncIterator[bytes]:
        """Pump standard chunks through a dialect's renderer to the client.

        A `HubError` after the first byte is rendered in-stream (the dialect's error event); a client
        disconnect (cancellation) closes the upstream connection and logs the call as aborted with the
        tokens seen so far.
        """
        error: BaseException | None = None
        aborted = False
        held = b""  # bytes kept back only once the upstream has ended: the rest needs no waiting
        try:
            async for chunks in upstream.chunks():
                out = render.chunks(chunks)
                if out:
                    ctx.first_byte()
                    if upstream.ended():
                        held += out  # sent with the end: one write instead of two (or more)
                    else:
                        yield out
            tail = held + render.end()
            if tail:
                yield tail
        except HubError as exc:
            error = exc
            yield held + render.error(exc)
        except BaseException as exc:  # CancelledError / GeneratorExit when the client goes away
            aborted = not isinstance(exc, Exception)
            error = exc
            raise
        finally:
            upstream.close()
            upstream.record_usage()  # the chunk generator may not have run its `finally` yet (abort)
            self.finish(ctx, None if aborted else error, aborted=aborted)

    def finish(self, ctx: CallContext, error: BaseException | None = None, *, aborted: bool = False) -> None:
        """Close the record and hand it to the observers, exactly once; anything async (settling, async
        observers) runs in a task, off the response path."""
        if ctx.finished:
            return
        ctx.finished = True
        rec = ctx.record
        rec.duration_ms = ctx.elapsed_ms()
        if aborted:
            rec.status, rec.http_status, rec.error = "aborted", 499, "client disconnected"
        elif error is not None:
            rec.status = "error"
            if isinstance(error, HubError):
                rec.http_status, rec.error = error.status, error.full_message
            else:
                rec.http_status, rec.error = 500, f"{type(error).__name__}: {error}"
        if rec.ttfb_ms is None and rec.status == "success":
            rec.ttfb_ms = rec.duration_ms
        _log_finished(rec)
        self.billing.price(ctx.hold, rec)
        # Nothing to settle and only plain-function observers (the usage log's enqueue): run them now; a
        # task per call costs more than they do.
        pending = None if ctx.hold is not None else self.hooks.on_call_finished_now(rec)
        if pending == []:
            return
        coro = self._settle_and_observe(ctx) if pending is None else self.hooks.finish_pending(pending)
        task = asyncio.get_running_loop().create_task(coro)
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _settle_and_observe(self, ctx: CallContext) -> None:
        # the usage row first, then the charge: a crash in between leaves a hold whose row says what to
        # charge (closed at the next start), never a charge without its row (docs/billing.md)
        rec = ctx.record
        logged = self.usage_written(rec) if self.usage_written is not None and ctx.hold is not None else None
        await self.hooks.on_call_finished(rec)
        await self.billing.settle(ctx.hold, rec, logged)

    async def drain(self) -> None:
        """Wait for pending observer calls (used on shutdown)."""
        if self._finishing:
            await asyncio.gather(*list(self._finishing), return_exceptions=True)


#: continues a call after its first upstream answer (see `Gateway.call_json`)
FollowUp = Callable[[Route, NormalizedResponse], Awaitable[NormalizedResponse]]


class StreamRenderer(Protocol):
    """How one dialect writes a stream: bytes for some chunks, for the end, and for an in-stream error."""

    def chunks(self, chunks: list[Chunk]) -> bytes: ...

    def end(self) -> bytes: ...

    def error(self, err: HubError) -> bytes: ...


class UpstreamStream:
    """The upstream side of a streaming call: standard chunks, usage as reported, bytes released on close."""

    def __init__(
        self, ctx: CallContext, resp: UpstreamResponse, normalizer: Normalizer, label: str, max_event: int
    ):
        self.ctx = ctx
        self.resp = resp
        self.normalizer = normalizer
        self.label = label
        self.max_event = max_event
        self.content_chunks = 0

    async def chunks(self) -> AsyncIterator[list[Chunk]]:
        norm = self.normalizer
        resp = self.resp
        waiting = 0  # bytes fed since the normalizer last gave chunks: an event (or line, or frame) unended
        first = True
        try:
            async for piece in resp.pieces():
                out = norm.feed(piece)
                if out:
                    waiting = 0
                    resp.progress()  # the idle timeout counts from the last event, not the last byte
                    content = getattr(out, "content", None)
                    if content is None:
                        content = len([c for c in out if not c.usage_only])
                    if first:
                        first = False
                        content -= first_says_nothing(out)  # the role, announced before any output
                    self.content_chunks += content
                    yield out
                else:
                    waiting += len(piece)
                    if waiting > self.max_event:
                        raise event_too_large(self.label, self.max_event)
                if norm.pending_error is not None:
                    raise norm.pending_error
            tail = norm.finish()
            if tail:
                yield tail
            if norm.pending_error is not None:
                raise norm.pending_error
        except aiohttp.ClientError as exc:
            raise HubError(
                502, "upstream_broken", f"{self.label} stream broke: {exc}", type="upstream_error"
            ) from exc
        except UNREADABLE as exc:
            raise malformed_error(f"{self.label} sent a stream the hub cannot read", exc) from exc
        finally:
            self.record_usage()

    def record_usage(self) -> None:
        """The provider's own numbers when it sent them; otherwise the chunks seen, marked as estimated."""
        usage = self.normalizer.usage
        if not self.normalizer.saw_usage and self.content_chunks:
            usage.output_tokens = max(usage.output_tokens, self.content_chunks)
            self.ctx.record.extra["usage_estimated"] = True
        self.ctx.record.usage = usage

    def ended(self) -> bool:
        """The upstream has sent everything: reading the rest never waits."""
        return self.resp.content.is_eof()

    def close(self) -> None:
        """Drop the upstream connection (cancels the upstream request if it is still running)."""
        if not self.resp.closed:
            self.resp.close()


#: how much of an upstream's error answer is read for its message
ERROR_BODY_LIMIT = 64 << 10


async def _body(resp: UpstreamResponse) -> bytes:
    """A successful answer's body, under the body cap and the timeouts."""
    try:
        return await resp.read_body()
    except aiohttp.ClientError as exc:
        message = f"{resp.label} connection failed: {type(exc).__name__}"
        raise HubError(502, "upstream_broken", message, type="upstream_error") from exc


async def _error_body(resp: UpstreamResponse) -> bytes:
    """The start of an error answer, enough for its message; nothing when it cannot be read."""
    try:
        return await resp.read_body(ERROR_BODY_LIMIT, truncate=True)
    except (aiohttp.ClientError, HubError):
        return b""


#: what a normalizer raises on an answer it cannot make sense of (bad JSON, bad UTF-8, a missing or
#: mistyped field); a normalizer's own `HubError` says more and passes as it is
UNREADABLE = (ValueError, LookupError, TypeError, AttributeError)


def malformed_error(message: str, exc: BaseException | None = None) -> HubError:
    detail = f"{message}: {type(exc).__name__}: {exc}"[:500] if exc is not None else None
    return HubError(502, "upstream_malformed", message, type="upstream_error", detail=detail)


def event_too_large(label: str, limit: int) -> HubError:
    return HubError(
        502,
        "upstream_event_too_large",
        f"{label} sent more than {limit} bytes of a stream without completing an event",
        type="upstream_error",
    )


#: OpenAI's first chunk of a stream, as it writes it: the role and nothing else
ROLE_ONLY = (
    b'"delta":{"role":"assistant","content":"","refusal":null}',
    b'"delta":{"role":"assistant","content":""}',
    b'"delta":{"role":"assistant"}',
)


def first_says_nothing(chunks: list[Chunk]) -> bool:
    """Whether the first of a stream's first chunks carries no output (OpenAI's names only the role): it is
    not a token. Read from its bytes when the upstream framed them (without making the chunk objects)."""
    sse = getattr(chunks, "sse", None)
    if sse is not None and sse.startswith(b"data: "):
        end = sse.find(b"\n\n")
        raw: bytes | None = sse[6:end] if end > 0 else None
    else:
        raw = chunks[0].raw
    if raw is not None:
        if raw.find(b'"delta":{"role":"assistant"') < 0:
            return False
        if raw.count(b'"delta"') == 1 and any(raw.find(form) >= 0 for form in ROLE_ONLY):
            return True
    return says_nothing(chunks[0])


def says_nothing(chunk: Chunk) -> bool:
    """A chunk whose choices carry no output."""
    choices = chunk.data.get("choices")
    if not isinstance(choices, list) or not choices:
        return False
    for choice in choices:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict) or any(v for k, v in delta.items() if k != "role"):
            return False
    return True


def _redact(err: HubError, route: Route) -> HubError:
    """Upstreams may echo the credential they rejected; never pass it on to the client or the logs."""
    if route.credential is not None:
        for value in route.credential.values.values():
            if len(value) >= 8:
                err.message = err.message.replace(value, mask(value))
                if err.detail:
                    err.detail = err.detail.replace(value, mask(value))
    return err


def _log_finished(rec: CallRecord) -> None:
    """One line per call (the request id and route are bound in the logging context); `emit` is what
    ``log.info(...)`` does, minus structlog's per-line logger assembly."""
    emit(
        "info" if rec.status == "success" else "warning",
        {
            "endpoint": rec.endpoint,
            "requested_model": rec.model,
            "stream": rec.stream,
            "status": rec.status,
            "http_status": rec.http_status,
            "duration_ms": round(rec.duration_ms, 1),
            "input_tokens": rec.usage.input_tokens,
            "output_tokens": rec.usage.output_tokens,
            "error": rec.error,
            "event": "call finished",
        },
    )


def request_id_of(request: Request) -> str:
    info = current_request()
    if info is not None:
        return info.request_id
    return request_id_from(request.headers.get("x-request-id"))


def app_did_of(request: Request, caller: Caller) -> str | None:
    did = request_header(request, "x-aigne-hub-client-did")
    if did:
        return unquote(did)[:200]
    return f"key:{caller.key_name}" if caller.key_name else None
