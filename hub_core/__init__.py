"""AIGNE Hub core: the public plugin API.

Plugins import what they need from here: `hookimpl`, the `Provider` contracts, the data types, `HubAPI` (the
``hub`` every hook is offered; `AuditActor` names who made a change for its audit log) and `HubError` with
its helpers. The other public modules are `hub_core.providers` (the provider authoring kit),
`hub_core.billing` (billing and payment contracts), `hub_core.web` (for plugin routes), `hub_core.cli` (for
plugin commands) and `hub_core.testing` (for plugin tests); nothing else is public (docs/plugins.md, "The
public plugin API").
"""

from hub_core.errors import HubError, bad_request, forbidden, not_found, unauthorized, upstream_auth_failed
from hub_core.hookspecs import hookimpl
from hub_core.providers.base import API_KEY_SCHEMA, Chunk, NormalizedResponse, Normalizer, Provider
from hub_core.providers.openai_compat import OpenAICompatibleProvider, usage_from_openai
from hub_core.types import (
    AuditActor,
    Caller,
    CallRecord,
    Credential,
    HubAPI,
    HubUser,
    Route,
    UpstreamRequest,
    Usage,
    Users,
)

__version__ = "0.2.0"

__all__ = [
    "API_KEY_SCHEMA",
    "AuditActor",
    "CallRecord",
    "Caller",
    "Chunk",
    "Credential",
    "HubAPI",
    "HubError",
    "HubUser",
    "NormalizedResponse",
    "Normalizer",
    "OpenAICompatibleProvider",
    "Provider",
    "Route",
    "UpstreamRequest",
    "Usage",
    "Users",
    "bad_request",
    "forbidden",
    "hookimpl",
    "not_found",
    "unauthorized",
    "upstream_auth_failed",
    "usage_from_openai",
]
