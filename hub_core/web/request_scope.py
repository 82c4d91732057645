"""What every request carries, set up before Quart builds its request object.

`HubHTTPConnection` is the Quart app's per-request ASGI handler. For each HTTP request it reads the headers
the hot path asks for into a plain dict, picks the request id, activates the hub's database context and the
request's log context, and adds ``x-request-id`` (and the call's cost, when known) to the response headers.
Doing this here instead of in ``before_request`` / ``after_request`` hooks also covers the answers Quart
makes itself (404, 405, 413), and skips per-request work Quart does for every hook: a coroutine check,
request proxy lookups, werkzeug header edits, and the exception werkzeug raises for each absent header.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable
from quart.asgi import ASGIHTTPConnection
from quart.typing import ResponseTypes
from quart.wrappers import Request, Response
from werkzeug.exceptions import BadHost
from werkzeug.wrappers import Response as WerkzeugResponse

from hub_core import db
from hub_core.errors import HubError
from hub_core.infra.logging import new_context
from hub_core.pipeline.context import RequestInfo, current, request_id_from

if TYPE_CHECKING:
    from hub_core.billing.manager import BillingManager
    from hub_core.hub import Hub

Headers = list[tuple[bytes, bytes]]


def read_headers(raw: Headers) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


class HubHTTPConnection(ASGIHTTPConnection):
    """Quart's per-request ASGI handler (``app.asgi_http_class``), doing what every request carries (see the
    module docstring) and running the handler in the server's own task.

    Quart's `ASGIHTTPConnection` starts two tasks per request, one reading the request's messages and one
    running the handler, and waits for the first to end with `asyncio.wait`. Here only the reader is a task
    of its own. What Quart guarantees stays: the body arrives while the handler runs (body size and time
    limits apply as before), and a client that disconnects cancels the handler, which ends the request
    quietly (a stream's generator is closed, so its upstream request is cancelled and the call is logged as
    aborted). About 100,000 instructions less per call than Quart's class plus an ASGI wrapper."""

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
            await self._handle(receive, send)
        finally:
            current.reset(token)

    async def _handle(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        request = self._request = self._create_request_from_scope(send)
        handler = asyncio.current_task()
        assert handler is not None  # ASGI servers call the app from a task
        reader = asyncio.ensure_future(self._read(request, receive, handler))
        try:
            await self.handle_request(request, send)
        except BadHost:
            # raised while Quart builds the request context (a Host label over 63 characters fails IDNA),
            # outside every error handler: the server would answer an empty 500 and print a traceback
            await self._send_response(send, _bad_host())
        except asyncio.CancelledError:
            if not reader.done() or reader.cancelled():
                raise  # cancelled by the server (shutdown), not by the client leaving
            handler.uncancel()
        finally:
            if not reader.done():
                reader.cancel()
        if reader.done() and not reader.cancelled() and (error := reader.exception()) is not None:
            raise error  # as Quart does: the server logs it

    async def _read(self, request: Request, receive: ASGIReceiveCallable, handler: asyncio.Task[Any]) -> None:
        """Quart's `handle_messages`; when the client disconnects (or reading fails), the handler is
        cancelled, as Quart cancels its handler task. Not when this reader is cancelled itself: that happens
        once the handler is done, and the server's task then has more to do."""
        try:
            await self.handle_messages(request, receive)
        except Exception:
            handler.cancel()
            raise
        handler.cancel()

    async def _send_response(self, send: ASGISendCallable, response: ResponseTypes) -> None:
        """Quart's, with ``x-request-id`` and the cost headers added to the start of the answer."""
        headers = [(key.lower().encode(), value.encode()) for key, value in response.headers.items()]
        if not await _body_received(self._request, self.info.headers):
            headers.append((b"connection", b"close"))
        start = {"type": "http.response.start", "status": response.status_code}
        start["headers"] = response_headers(headers, self.info, self.billing)
        await send(start)  # type: ignore[arg-type]
        if isinstance(response, WerkzeugResponse):
            for data in response.response:
                await _send_body(send, data)
        else:
            async with response.response as body:
                async for data in body:
                    await _send_body(send, data)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


#: a request answered before its body was read (a refused key, a 404) waits this long for the rest of the body
DRAIN_SECONDS = 5.0
#: ... if the body is no larger than this; a larger one is not waited for
DRAIN_BYTES = 1 << 20


async def _body_received(request: Request, headers: dict[str, str]) -> bool:
    """Whether the request's body has arrived whole, waiting a little for it when the answer came first.

    The server only reuses a keep-alive connection once the request's body was read to its end; otherwise it
    closes the connection after the answer without saying so, and a pooled client's next request on it fails
    (3-5 % of the requests after a 401 did). So the answer waits for a small body, and says
    ``Connection: close`` when it does not. Reads Quart's `Body` state (`_complete`, `_must_raise`)."""
    body = request.body
    if body._complete.is_set():
        return body._must_raise is None  # too large: the rest is still arriving, and being thrown away
    length = headers.get("content-length")
    if length is None and "transfer-encoding" not in headers:
        return True  # no body (a GET): nothing the server could be left to read
    if length is not None and (not length.isdigit() or int(length) > DRAIN_BYTES):
        return False
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            await body._complete.wait()
    except TimeoutError:
        return False
    return body._must_raise is None


def _bad_host() -> Response:
    from hub_core.web.api.common import admin_error

    return admin_error(HubError(400, "bad_host", "The Host header is not a valid host name"))


async def _send_body(send: ASGISendCallable, data: bytes | str) -> None:
    body = data.encode() if isinstance(data, str) else data
    await send({"type": "http.response.body", "body": body, "more_body": True})


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
