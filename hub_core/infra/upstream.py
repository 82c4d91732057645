"""The one HTTP client the hub uses to reach providers: pooled connections, timeouts, caps, error mapping.

An upstream may be slow, broken or hostile; none of that may hold a call (and its credit hold) for ever or
take the hub's memory. Every exchange has a connect, a first-byte, an idle and a total timeout, and every
body a size cap (docs/security.md, "Hostile upstreams").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from yarl import URL

from hub_core.config import Settings
from hub_core.errors import HubError
from hub_core.infra.aiohttp_overrides import get_env_proxy_for_url, netrc_from_env
from hub_core.infra.jsonio import dumps_bytes
from hub_core.types import UpstreamRequest


class UpstreamClient:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        # aiohttp's trust_env looks up proxies and ~/.netrc in a worker thread on every request (a third of
        # the hub's CPU under load); proxies are looked up once per scheme and host instead. With a netrc
        # file present, aiohttp keeps doing all of it, as before.
        self._trust_env = netrc_from_env() is not None
        self._proxies: dict[tuple[str, str], tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector,
                # reads are timed by `UpstreamResponse` (a socket read timeout cannot tell a stream that
                # drips a byte a second from one that makes progress)
                timeout=aiohttp.ClientTimeout(sock_connect=self.settings.upstream_connect_timeout),
                response_class=UpstreamResponse,
                # one session serves every user and credential: a cookie a provider sets (Cloudflare's
                # __cf_bm in front of OpenAI and Anthropic) must not ride along on other callers' requests
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
                trust_env=self._trust_env,  # otherwise HTTPS_PROXY / NO_PROXY are honoured in `send`
            )
        return self._session

    async def send(self, req: UpstreamRequest, provider_label: str) -> UpstreamResponse:
        """Send and return the response with its headers read (within the first-byte and total timeouts);
        the caller reads the body with `UpstreamResponse.read_body` or `.pieces` (or releases it)."""
        proxy, proxy_auth = (None, None) if self._trust_env else self._env_proxy(req.url)
        body, headers = req.body, req.headers
        if body is None and req.json is not None:
            body, headers = dumps_bytes(req.json), with_json_type(headers)
        settings = self.settings
        sent = asyncio.get_running_loop().time()
        total_at = sent + settings.upstream_total_timeout
        try:
            async with asyncio.timeout_at(min(total_at, sent + settings.upstream_first_byte_timeout)):
                resp = await self.session.request(
                    req.method,
                    req.url,
                    headers=headers,
                    data=body,
                    params=req.params or None,
                    allow_redirects=False,
                    proxy=proxy,
                    proxy_auth=proxy_auth,
                )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise timeout_error(provider_label, "sent no answer within the first-byte timeout") from exc
        except aiohttp.ClientError as exc:
            raise HubError(
                502,
                "upstream_unreachable",
                f"Cannot reach {provider_label}: {type(exc).__name__}",
                type="upstream_error",
            ) from exc
        resp.limit(provider_label, settings, sent)
        return resp

    def _env_proxy(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The HTTP(S)_PROXY for this URL unless NO_PROXY exempts its host, looked up once per host."""
        scheme, _, rest = url.partition("://")
        key = (scheme, rest.split("/", 1)[0])
        found = self._proxies.get(key)
        if found is None:
            try:
                found = get_env_proxy_for_url(URL(url))
            except LookupError:
                found = (None, None)
            self._proxies[key] = found
        return found

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def with_json_type(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with ``Content-Type: application/json`` unless the provider set a content type."""
    if any(name.lower() == "content-type" for name in headers):
        return headers
    return {**headers, "Content-Type": "application/json"}


def timeout_error(provider_label: str, why: str | None = None) -> HubError:
    message = f"{provider_label} did not answer in time"
    detail = f"{message}: {why}" if why else None
    return HubError(504, "upstream_timeout", message, type="upstream_error", detail=detail)


def too_large_error(provider_label: str, limit: int) -> HubError:
    return HubError(
        502,
        "upstream_response_too_large",
        f"{provider_label} sent an answer larger than the hub accepts ({limit} bytes)",
        type="upstream_error",
    )


#: bytes of a JSON answer's body that count as progress for the idle timeout (a trickle is idle)
BODY_PROGRESS_BYTES = 64 << 10


class UpstreamResponse(aiohttp.ClientResponse):
    """An upstream answer whose body is read under the exchange's limits (`UpstreamClient.send` sets them).

    Idle means no progress: `progress()` is called when a stream completes an event (the gateway does) or
    a body brings another `BODY_PROGRESS_BYTES`; bytes that complete nothing do not reset the clock, so an
    upstream that drips junk or a byte a second is cut off like a silent one. Before the first progress the
    first-byte timeout applies (counted from sending the request), and the total timeout always.

    One timer per answer keeps the deadline (a timer per wait for bytes cost more than the reading): when it
    fires early, because there was progress meanwhile, it sets itself again; when the deadline has passed,
    it closes the response, which ends a read waiting for bytes, and the reader reports the timeout.
    """

    label = "upstream"
    max_body = 64 << 20
    idle = 120.0
    _first_at = 0.0
    _total_at = 0.0
    _progress_at: float | None = None
    _watch: asyncio.TimerHandle | None = None
    _expired: str | None = None  # why the deadline closed the response

    def limit(self, label: str, settings: Settings, sent: float) -> None:
        self.label = label
        self.max_body = settings.upstream_max_body_bytes
        self.idle = settings.upstream_idle_timeout
        self._total_at = sent + settings.upstream_total_timeout
        self._first_at = min(self._total_at, sent + settings.upstream_first_byte_timeout)

    def progress(self) -> None:
        self._progress_at = asyncio.get_running_loop().time()

    def _watch_deadline(self) -> None:
        loop = asyncio.get_running_loop()
        deadline, why = self._deadline()
        if loop.time() >= deadline:
            self._expired = why
            self.close()
        else:
            self._watch = loop.call_at(deadline, self._watch_deadline)

    def _unwatch(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def close(self) -> None:
        self._unwatch()
        super().close()

    def release(self) -> Any:
        self._unwatch()
        return super().release()

    def _deadline(self) -> tuple[float, str]:
        if self._progress_at is None:
            return self._first_at, "sent nothing within the first-byte timeout"
        idle_at = self._progress_at + self.idle
        if idle_at < self._total_at:
            return idle_at, "stopped making progress (idle timeout)"
        return self._total_at, "took longer than the total timeout"

    async def pieces(self) -> AsyncIterator[bytes]:
        """The body as the socket delivers it, under the deadline."""
        content = self.content
        loop = asyncio.get_running_loop()
        if self._watch is None and self._expired is None:
            self._watch_deadline()
        try:
            while True:
                piece = content.read_nowait()  # what is already buffered
                if not piece:
                    if content.at_eof():
                        return
                    piece = await content.readany()
                    if not piece:
                        return
                elif loop.time() > self._total_at:  # an upstream that never lets the buffer run dry
                    self._expired = "took longer than the total timeout"
                    self.close()
                yield piece
        except aiohttp.ClientError as exc:
            if self._expired is not None:
                raise timeout_error(self.label, self._expired) from exc
            raise
        finally:
            self._unwatch()

    async def read_body(self, limit: int | None = None, *, truncate: bool = False) -> bytes:
        """The whole body, at most `limit` bytes (the body cap by default): 502 upstream_response_too_large
        past it, or with `truncate` the first `limit` bytes (for an error answer, only read for its
        message). The connection is closed rather than read on."""
        limit = self.max_body if limit is None else limit
        if self.content_length is not None and self.content_length > limit and not truncate:
            self.close()
            raise too_large_error(self.label, limit)
        if self._progress_at is None:
            self.progress()  # the headers are the first byte of a JSON answer
        parts: list[bytes] = []
        size = counted = 0
        try:
            async for piece in self.pieces():
                parts.append(piece)
                size += len(piece)
                if size > limit:
                    self.close()
                    if truncate:
                        return b"".join(parts)[:limit]
                    raise too_large_error(self.label, limit)
                if size - counted >= BODY_PROGRESS_BYTES:
                    counted = size
                    self.progress()
        finally:
            self.release()
        return parts[0] if len(parts) == 1 else b"".join(parts)
