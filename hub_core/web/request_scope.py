"""What every request carries, set up before Quart builds its request object.

`HubHTTPConnection` is the Quart app's per-request ASGI handler. For each HTTP request it reads the headers
the hot path asks for into a plain dict, picks the request id, activates the hub's database context and the
request's log context, and adds ``x-request-id`` (and the call's cost, when known) to the response headers.
Doing this here instead of in ``before_request`` / ``after_request`` hooks also covers the answers Quart
makes itself (404, 405, 413), and skips per-request work Quart does for every hook: a coroutine check,
request proxy lookups, werkzeug header edits, and the exception werkzeug raises for each absent header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable
from werkzeug.exceptions import BadHost

from hub_core import db
from hub_core.errors import HubError
from hub_core.infra.logging import new_context
from hub_core.pipeline.context import RequestInfo, current, request_id_from
from hub_core.web.quart_overrides import Headers, SingleTaskHTTPConnection, body_received

if TYPE_CHECKING:
    from quart import Response

    from hub_core.billing.manager import BillingManager
    from hub_core.hub import Hub


def read_headers(raw: Headers) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


class HubHTTPConnection(SingleTaskHTTPConnection):
    """The app's per-request ASGI handler (``app.asgi_http_class``): sets up what every request carries (see
    the module docstring), then lets Quart handle it (in the server's task, `quart_overrides`)."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        hub: Hub = self.app.extensions["aigne_hub"]
        headers = read_headers(self.scope["headers"])
        info = RequestInfo(request_id_from(headers.get("x-request-id")), headers)
        token = current.set(info)  # the reader task inherits all three
        if hub.db is not None:
            db.activate(hub.db)
        new_context(request_id=info.request_id, path=self.scope["path"])
        self.info = info
        self.billing = hub.gateway.billing
        try:
            await self.handle(receive, send)
        finally:
            current.reset(token)

    async def start_headers(self, headers: Headers) -> Headers:
        if not await body_received(self.request, self.info.headers):
            headers.append((b"connection", b"close"))
        return response_headers(headers, self.info, self.billing)

    def refused_request(self, exc: Exception) -> Response | None:
        if isinstance(exc, BadHost):
            # raised while Quart builds the request context (a Host label over 63 characters fails IDNA),
            # outside every error handler: the server would answer an empty 500 and print a traceback
            from hub_core.web.api.common import admin_error

            return admin_error(HubError(400, "bad_host", "The Host header is not a valid host name"))
        return None


def response_headers(raw: Headers, info: RequestInfo, billing: BillingManager) -> Headers:
    """`raw` plus ``x-request-id`` and the cost headers, each unless the answer already has it."""
    present = {name.lower() for name, _ in raw}
    extra = [] if b"x-request-id" in present else [(b"x-request-id", info.request_id.encode("latin-1"))]
    if info.call is not None:
        for name, value in billing.cost_headers(info.call.record).items():
            key = name.lower().encode("latin-1")
            if key not in present:
                extra.append((key, value.encode("latin-1")))
    return [*raw, *extra] if extra else raw
