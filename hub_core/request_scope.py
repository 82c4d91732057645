"""What every request carries, set up at the ASGI layer before Quart builds its request object.

`RequestScope` wraps the Quart app's ASGI callable. For each HTTP request it reads the headers the hot path
asks for into a plain dict, picks the request id, activates the hub's database context and the request's
log context, and adds ``x-request-id`` (and the call's cost, when known) to the response headers. Doing
this here instead of in ``before_request`` / ``after_request`` hooks also covers the answers Quart makes
itself (404, 405, 413), and skips per-request work Quart does for every hook: a coroutine check, request
proxy lookups, werkzeug header edits, and the exception werkzeug raises for each absent header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from hub_core import db
from hub_core.logging import new_context
from hub_core.types import random_id

if TYPE_CHECKING:
    from hub_core.billing import BillingManager
    from hub_core.gateway import CallContext
    from hub_core.hub import Hub

Headers = list[tuple[bytes, bytes]]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

#: the longest client-chosen request id the hub adopts (longer ones get a fresh id)
MAX_REQUEST_ID = 64


class RequestInfo:
    """One HTTP request as the hub sees it: its id, its headers (lower-case names, first value of repeated
    ones, as ``headers.get`` gives) and the API call it made, if any (for the response's cost header)."""

    __slots__ = ("call", "headers", "request_id")

    def __init__(self, request_id: str, headers: dict[str, str]) -> None:
        self.request_id = request_id
        self.headers = headers
        self.call: CallContext | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("aigne_hub_request", default=None)


def current_request() -> RequestInfo | None:
    """The request being handled (None outside one, e.g. in a test request context without the wrapper)."""
    return _current.get()


def read_headers(raw: Headers) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


def request_id_from(rid: str | None) -> str:
    """The client's ``x-request-id`` value when it is a usable one, else a fresh id."""
    if rid and len(rid) <= MAX_REQUEST_ID and rid.isprintable():
        return rid
    return random_id()


class RequestScope:
    """ASGI wrapper around the Quart app; see the module docstring."""

    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = read_headers(scope["headers"])
        info = RequestInfo(request_id_from(headers.get("x-request-id")), headers)
        token = _current.set(info)  # the tasks Quart starts for this request inherit all three
        if self.hub.db is not None:
            db.activate(self.hub.db)
        new_context(request_id=info.request_id, path=scope["path"])
        billing = self.hub.gateway.billing

        async def send_tagged(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = response_headers(message["headers"], info, billing)
            await send(message)

        try:
            await self.app(scope, receive, send_tagged)
        finally:
            _current.reset(token)


def response_headers(raw: Headers, info: RequestInfo, billing: BillingManager) -> Headers:
    """`raw` plus ``x-request-id`` and the cost headers, each unless the answer already has it."""
    present = {name.lower() for name, _ in raw}
    extra = [] if b"x-request-id" in present else [(b"x-request-id", info.request_id.encode("latin-1"))]
    if info.call is not None:
        for name, value in billing.cost_headers(info.call).items():
            key = name.lower().encode("latin-1")
            if key not in present:
                extra.append((key, value.encode("latin-1")))
    return [*raw, *extra] if extra else raw
