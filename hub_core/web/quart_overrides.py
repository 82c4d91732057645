"""Every override of a private Quart internal, for speed, in one place (measurements: docs/performance.md).

pyproject pins Quart to the versions these were tested with: 0.22 (Python 3.11 and 3.12) and 0.23 (it needs
Python 3.13). tests/test_library_overrides.py fails when a signature relied on here changes.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable
from quart import Request
from quart.asgi import ASGIHTTPConnection
from quart.typing import ResponseTypes
from werkzeug.exceptions import RequestTimeout
from werkzeug.wrappers import Response as WerkzeugResponse

Headers = list[tuple[bytes, bytes]]

#: the shapes of `ASGIHTTPConnection.handle_messages` this module works with: Quart 0.22, then 0.23, which
#: passes the handler task in and cancels it itself when the client disconnects
HANDLE_MESSAGES = {
    ("self", "request", "receive"): False,
    ("self", "request", "receive", "request_task"): True,
}
_shape = tuple(inspect.signature(ASGIHTTPConnection.handle_messages).parameters)
if _shape not in HANDLE_MESSAGES:  # fail at start-up, not with an empty 500 on every request with a body
    raise ImportError(f"unsupported Quart: ASGIHTTPConnection.handle_messages{_shape}; see pyproject.toml")
_QUART_CANCELS_HANDLER = HANDLE_MESSAGES[_shape]


class SingleTaskHTTPConnection(ASGIHTTPConnection):
    """Quart's per-request ASGI handler, running the handler in the server's own task; subclasses set up the
    request's scope in ``__call__``, then await `handle`; they may add headers to every answer in
    `start_headers`, and answer requests Quart fails to take in (`refused_request`).

    Quart's `ASGIHTTPConnection` starts two tasks per request, one reading the request's messages and one
    running the handler, and waits for the first to end. Here only the reader is a task of its own. What
    Quart guarantees stays: the body arrives while the handler runs (body size and time limits apply as
    before), and a client that disconnects cancels the handler, which ends the request quietly (a stream's
    generator is closed, so its upstream request is cancelled). About 100,000 instructions less per call."""

    request: Request

    async def start_headers(self, headers: Headers) -> Headers:
        return headers

    def refused_request(self, exc: Exception) -> ResponseTypes | None:
        """The answer to an exception Quart raises outside every error handler (None: let it propagate)."""
        return None

    async def handle(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        request = self.request = self._create_request_from_scope(send)
        handler = asyncio.current_task()
        assert handler is not None  # ASGI servers call the app from a task
        reader = asyncio.ensure_future(self._read(request, receive, handler))
        try:
            await self.handle_request(request, send)
        except Exception as exc:
            answer = self.refused_request(exc)
            if answer is None:
                raise
            await self._send_response(send, answer)
        except asyncio.CancelledError:
            if not reader.done() or reader.cancelled():
                raise  # cancelled by the server (shutdown), not by the client leaving
            handler.uncancel()
        finally:
            if not reader.done():
                reader.cancel()
            # the request refers back to this handler (Quart's push-promise callback): without the cycle the
            # request's objects are freed when the call ends, not at the collector's next pass
            del self.request
        if reader.done() and not reader.cancelled() and (error := reader.exception()) is not None:
            raise error  # as Quart does: the server logs it

    async def _read(self, request: Request, receive: ASGIReceiveCallable, handler: asyncio.Task[Any]) -> None:
        """Quart's `handle_messages`; when the client disconnects (or reading fails), the handler is
        cancelled once, as Quart cancels its handler task (Quart 0.23 does it inside `handle_messages`). Not
        when this reader is cancelled itself: that happens once the handler is done, and the server's task
        then has more to do."""
        try:
            if _QUART_CANCELS_HANDLER:
                await self.handle_messages(request, receive, handler)  # type: ignore[call-arg]
                return
            await self.handle_messages(request, receive)  # type: ignore[call-arg]
        except Exception:
            handler.cancel()
            raise
        handler.cancel()

    async def _send_response(self, send: ASGISendCallable, response: ResponseTypes) -> None:
        """Quart's, with `start_headers` applied to the start of the answer."""
        headers = [(key.lower().encode(), value.encode()) for key, value in response.headers.items()]
        start = {"type": "http.response.start", "status": response.status_code}
        start["headers"] = await self.start_headers(headers)
        await send(start)  # type: ignore[arg-type]
        if isinstance(response, WerkzeugResponse):
            for data in response.response:
                await _send_body(send, data)
        else:
            async with response.response as body:
                async for data in body:
                    await _send_body(send, data)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_body(send: ASGISendCallable, data: bytes | str) -> None:
    body = data.encode() if isinstance(data, str) else data
    await send({"type": "http.response.body", "body": body, "more_body": True})


#: a request answered before its body was read (a refused key, a 404) waits this long for the rest of the body
DRAIN_SECONDS = 5.0
#: ... if the body is no larger than this; a larger one is not waited for
DRAIN_BYTES = 1 << 20


async def body_received(request: Request, headers: dict[str, str]) -> bool:
    """Whether the request's body has arrived whole, waiting a little for it when the answer came first.

    The server only reuses a keep-alive connection once the request's body was read to its end; otherwise it
    closes the connection after the answer without saying so, and a pooled client's next request on it fails
    (3-5 % of the requests after a 401 did). So the answer waits for a small body, and says
    ``Connection: close`` when it does not. Reads Quart's `Body` state (`_complete`, `_must_raise`, the same
    in 0.22 and 0.23)."""
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


class HubRequest(Request):
    """Quart's request, with the blueprint names of the matched route looked up once per endpoint: Quart asks
    for them for every hook, handler and error-handler lookup of every request, and works them out from the
    endpoint name each time."""

    @property
    def blueprints(self) -> list[str]:
        rule = self.url_rule
        if rule is None:
            return []
        names = _BLUEPRINTS.get(rule.endpoint)
        if names is None:
            names = _BLUEPRINTS[rule.endpoint] = super().blueprints
        return names

    async def get_data(  # type: ignore[override]
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> str | bytes:
        """Quart's, with the body timeout (``BODY_TIMEOUT``, 408 when it passes) kept by `asyncio.timeout`
        instead of `asyncio.wait_for`, which in Python 3.11 starts a task and a timer per call."""
        if parse_form_data:
            await self._load_form_data()
        try:
            async with asyncio.timeout(self.body_timeout):
                raw_data = await self.body
        except TimeoutError as exc:
            raise RequestTimeout() from exc
        if not cache:
            self.body.clear()
        return raw_data.decode() if as_text else raw_data


#: endpoint -> its blueprint names, innermost first (endpoints are fixed once the app is built)
_BLUEPRINTS: dict[str, list[str]] = {}
