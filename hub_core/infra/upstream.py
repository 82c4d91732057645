"""The one HTTP client the hub uses to reach providers: pooled connections, timeouts, error mapping."""

from __future__ import annotations

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url, netrc_from_env
from yarl import URL

from hub_core.config import Settings
from hub_core.errors import HubError
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
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=self.settings.upstream_connect_timeout,
                    sock_read=self.settings.upstream_read_timeout,
                ),
                auto_decompress=True,
                trust_env=self._trust_env,  # otherwise HTTPS_PROXY / NO_PROXY are honoured in `send`
            )
        return self._session

    async def send(self, req: UpstreamRequest, provider_label: str) -> aiohttp.ClientResponse:
        """Send and return the response with its headers read; the caller reads (or releases) the body."""
        proxy, proxy_auth = (None, None) if self._trust_env else self._env_proxy(req.url)
        body, headers = req.body, req.headers
        if body is None and req.json is not None:
            body, headers = dumps_bytes(req.json), with_json_type(headers)
        try:
            return await self.session.request(
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
            raise timeout_error(provider_label) from exc
        except aiohttp.ClientError as exc:
            raise HubError(
                502,
                "upstream_unreachable",
                f"Cannot reach {provider_label}: {type(exc).__name__}",
                type="upstream_error",
            ) from exc

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


def timeout_error(provider_label: str) -> HubError:
    return HubError(
        504, "upstream_timeout", f"{provider_label} did not answer in time", type="upstream_error"
    )
