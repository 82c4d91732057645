"""The one HTTP client the hub uses to reach providers: pooled connections, timeouts, error mapping."""

from __future__ import annotations

import aiohttp

from hub_core.config import Settings
from hub_core.errors import HubError
from hub_core.types import UpstreamRequest


class UpstreamClient:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

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
                trust_env=True,  # honours HTTPS_PROXY / NO_PROXY
            )
        return self._session

    async def send(self, req: UpstreamRequest, provider_label: str) -> aiohttp.ClientResponse:
        """Send and return the response with its headers read; the caller reads (or releases) the body."""
        try:
            return await self.session.request(
                req.method,
                req.url,
                headers=req.headers,
                json=req.json if req.body is None else None,
                data=req.body,
                params=req.params or None,
                allow_redirects=False,
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

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def timeout_error(provider_label: str) -> HubError:
    return HubError(
        504, "upstream_timeout", f"{provider_label} did not answer in time", type="upstream_error"
    )
