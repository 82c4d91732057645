"""Every use of aiohttp's internal helpers in one place: the proxy and ~/.netrc lookups its ``trust_env``
does on every request, which the upstream client does once per host instead (infra/upstream.py).
pyproject pins aiohttp to the versions tested; tests/test_library_overrides.py checks the signatures."""

from __future__ import annotations

from aiohttp.helpers import get_env_proxy_for_url, netrc_from_env

__all__ = ["get_env_proxy_for_url", "netrc_from_env"]
