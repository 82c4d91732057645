"""AIGNE Hub core: the public plugin API.

Plugins import what they need from here: `hookimpl`, the `Provider` contracts, the data types and `HubError`.
"""

from hub_core.errors import HubError
from hub_core.hookspecs import hookimpl
from hub_core.providers.base import API_KEY_SCHEMA, Chunk, NormalizedResponse, Normalizer, Provider
from hub_core.providers.openai_compat import OpenAICompatibleProvider, usage_from_openai
from hub_core.types import Caller, CallRecord, Credential, Route, UpstreamRequest, Usage

__version__ = "0.2.0"

__all__ = [
    "API_KEY_SCHEMA",
    "CallRecord",
    "Caller",
    "Chunk",
    "Credential",
    "HubError",
    "NormalizedResponse",
    "Normalizer",
    "OpenAICompatibleProvider",
    "Provider",
    "Route",
    "UpstreamRequest",
    "Usage",
    "hookimpl",
    "usage_from_openai",
]
