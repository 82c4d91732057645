"""OpenAI-compatible endpoints an admin adds as data (name, base URL, optional key, models), without a plugin.

Each stored provider record of kind ``openai_compatible`` becomes one `CompatibleEndpoint`, a plain
`OpenAICompatibleProvider` named after the record, so it routes, streams, fails over and is logged exactly
like a plugin's provider (`hub_core.default_plugins.openai_compatible` keeps them in step with the records).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hub_core.providers.base import API_KEY_SCHEMA
from hub_core.providers.openai_compat import OpenAICompatibleProvider

#: the provider record kind (`hub_core.db.models.Provider.kind`) of these endpoints
KIND = "openai_compatible"

#: a name usable as the NAME of ``NAME/model`` (routing lower-cases that prefix, splits at ``/`` or ``:``)
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")

#: the key is optional: local servers (vLLM, LM Studio, llama.cpp) often need none
OPTIONAL_API_KEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"api_key": {"type": "string", "title": "API key", "secret": True, "minLength": 1}},
}


class CompatibleEndpoint(OpenAICompatibleProvider):
    """An OpenAI-dialect upstream configured by an admin; `compatible_provider` makes one per record."""

    credential_schema = OPTIONAL_API_KEY_SCHEMA


def compatible_provider(
    name: str,
    display_name: str | None,
    base_url: str,
    models: Sequence[str] = (),
    *,
    keyed: bool = False,
    headers: Mapping[str, str] | None = None,
    stream_usage: bool = True,
) -> CompatibleEndpoint:
    """The provider for one record. Its first listed model is the credential check's test model; without a
    list the check asks the upstream's ``/models`` instead (`hub_core.routing.verify`). A `keyed` endpoint
    (its record stores a key) requires one: once its keys are all switched off (refused by the upstream),
    routing answers 503 instead of calling it without a key. `headers` go with every request (the record's
    ``config.headers``); `stream_usage` False leaves ``stream_options`` out of streamed requests, for servers
    that refuse it (``config.streamUsage``)."""
    attrs: dict[str, Any] = {
        "name": name,
        "display_name": display_name or name,
        "default_base_url": base_url,
        "test_model": str(models[0]) if models else "",
    }
    if keyed:
        attrs["credential_schema"] = API_KEY_SCHEMA
    if headers:
        attrs["extra_headers"] = dict(headers)
    if not stream_usage:
        attrs["stream_usage_option"] = False
    # a class per endpoint: a provider's name and base URL are class attributes of the contract
    return type(f"CompatibleEndpoint[{name}]", (CompatibleEndpoint,), attrs)()


def endpoint_options(config: dict[str, Any] | None) -> tuple[dict[str, str], bool]:
    """A record's extra request headers (``config.headers``) and whether streams ask for usage
    (``config.streamUsage``, default true); wrongly typed values are ignored (the admin API refuses them)."""
    config = config or {}
    raw = config.get("headers")
    headers = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return headers, config.get("streamUsage") is not False


def configured_models(config: dict[str, Any] | None) -> list[str]:
    """The model ids a record lists (``config.models``), or none: then the upstream's ``/models`` decides."""
    models = (config or {}).get("models")
    return [str(m) for m in models] if isinstance(models, list) else []
