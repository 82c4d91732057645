"""Replaces the built-in credential injection: requests to a provider are signed with a key from the plugin's
own "vault" (``settings.extra["vault:<provider>"]``) instead of the credential stored in the hub."""

from __future__ import annotations

from hub_core import Route, UpstreamRequest, hookimpl
from hub_core.config import Settings

VAULT: dict[str, str] = {}


@hookimpl
def on_startup(settings: Settings) -> None:
    for key, value in settings.extra.items():
        if key.startswith("vault:"):
            VAULT[key.split(":", 1)[1]] = value


@hookimpl
def prepare_upstream_request(upstream: UpstreamRequest, route: Route) -> None:
    key = VAULT.get(route.provider_name)
    if key:
        upstream.headers["Authorization"] = f"Bearer {key}"
