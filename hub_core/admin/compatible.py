"""OpenAI-compatible endpoints added as data (`hub_core.providers.compatible`): the checks of a new one's
name, URL, key and models, its record with its credential, and asking an endpoint for its models."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from hub_core.admin.providers import (
    _client,
    _masked,
    adapter_for,
    check_endpoint_config,
    check_endpoint_url,
    check_models,
    credential_audit,
    get_provider,
    provider_audit,
)
from hub_core.config import Settings
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import HubError, bad_request
from hub_core.infra.crypto import Keyring, SecretError
from hub_core.infra.plugin_host import PluginHost
from hub_core.providers.compatible import (
    KIND,
    NAME_PATTERN,
    OPTIONAL_API_KEY_SCHEMA,
    compatible_provider,
    endpoint_options,
)
from hub_core.routing.health import Outcome, classify
from hub_core.routing.verify import check_credential, list_models, raise_unless_valid
from hub_core.runtime.state import bump_generation
from hub_core.types import Credential, Route

if TYPE_CHECKING:
    from hub_core.infra.upstream import UpstreamClient


def check_name(host: PluginHost, name: Any) -> str:
    """A name usable as the ``name/`` of ``name/model`` that no installed plugin's provider has."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise bad_request(
            "name must be 1 to 50 lower-case letters, digits, '-', '_' or '.', starting with a letter or "
            "digit (it is the NAME of NAME/model)",
            param="name",
        )
    owner = host.provider_plugin(name)
    if owner is not None and owner != KIND:
        raise HubError(
            409,
            "provider_name_taken",
            f"Provider name {name!r} belongs to the installed plugin {owner!r}; choose another name",
            param="name",
        )
    return name


def api_key_of(value: Any) -> str | None:
    """An optional API key as given in a request body (absent or empty: none)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 4000:
        raise bad_request("apiKey must be a string", param="apiKey")
    return value.strip() or None


async def discover_models(
    settings: Settings,
    base_url: str,
    api_key: str | None,
    *,
    name: str = "endpoint",
    headers: dict[str, str] | None = None,
    upstream: UpstreamClient | None = None,
) -> list[str]:
    """Ask an endpoint for its models (``GET <baseUrl>/models``) now. A refused key is a 400
    ``invalid_credentials``, any other failure a 400 ``models_unavailable``, each with the upstream's words as
    ``detail``."""
    provider = compatible_provider(name, name, base_url, headers=headers)
    credential = Credential(None, "check", {"api_key": api_key}) if api_key else None
    route = Route(provider, name, "", base_url, credential, None, {}, None)
    try:
        async with _client(settings, upstream) as client:
            models = await list_models(client, route)
    except HubError as exc:
        detail = exc.full_message.replace(api_key, "***") if api_key else exc.full_message
        if classify(exc) is Outcome.CREDENTIAL:
            raise HubError(
                400, "invalid_credentials", "Invalid credentials", extra={"detail": detail}
            ) from exc
        raise HubError(
            400,
            "models_unavailable",
            f"Could not list the models at {base_url}/models; check baseUrl, or give the models yourself",
            extra={"detail": detail},
        ) from exc
    if not models:
        raise HubError(
            400,
            "models_unavailable",
            f"{base_url}/models listed no models; give the models yourself",
        )
    return models


async def add_compatible_provider(
    settings: Settings,
    host: PluginHost,
    keyring: Keyring,
    name: Any,
    base_url: Any,
    *,
    api_key: Any = None,
    models: Any = None,
    display_name: str | None = None,
    enabled: bool = True,
    verify: bool = True,
    config: Any = None,
    upstream: UpstreamClient | None = None,
    actor: audit.Actor | None = None,
) -> tuple[m.Provider, list[str]]:
    """Store an OpenAI-compatible endpoint (and its key, encrypted, as its first credential). With `verify`
    the endpoint must answer first: its model list when no `models` are given (returned, and asked again by
    the catalog later), else a test chat with the first model. Returns the record and the models found."""
    name = check_name(host, name)
    url = check_endpoint_url(base_url)
    key = api_key_of(api_key)
    stored = check_endpoint_config(config)
    fixed = check_models(models) if models is not None else stored.pop("models", None)
    if fixed:
        stored["models"] = fixed
    headers, stream_usage = endpoint_options(stored)
    if await m.Provider.exists(name=name):
        raise HubError(409, "conflict", f"Provider {name!r} already exists", param="name")
    found: list[str] = []
    if verify and fixed is None:
        found = await discover_models(settings, url, key, name=name, headers=headers, upstream=upstream)
    elif verify:
        provider = compatible_provider(
            name, display_name, url, fixed or (), headers=headers, stream_usage=stream_usage
        )
        async with _client(settings, upstream) as client:
            result = await check_credential(
                client, name, provider, {"api_key": key} if key else {}, base_url=url
            )
        raise_unless_valid(result)
    async with in_transaction():
        row = await m.Provider.create(
            name=name,
            kind=KIND,
            display_name=(display_name or name)[:100],
            base_url=url,
            enabled=enabled,
            config=stored,
        )
        await audit.record(actor, "provider.create", "provider", row.id, after=provider_audit(row))
        if key is not None:
            values = {"api_key": key}
            cred = await m.Credential.create(
                provider=row,
                name=f"{name}-1",
                credential_type="api_key",
                ciphertext=keyring.encrypt(json.dumps(values)),
                masked=_masked(values, OPTIONAL_API_KEY_SCHEMA),
            )
            after = credential_audit(cred, row)
            await audit.record(actor, "credential.create", "credential", cred.id, after=after)
    await bump_generation(settings)
    return row, found


async def record_models(
    settings: Settings,
    host: PluginHost,
    keyring: Keyring,
    provider_ref: str | int,
    *,
    upstream: UpstreamClient | None = None,
) -> dict[str, Any]:
    """What a provider record lists (``config.models``) and what its upstream lists now, asked with its first
    active credential."""
    row = await get_provider(provider_ref)
    provider = adapter_for(host, row)
    if provider is None:
        raise HubError(
            503, "provider_disabled", f"Provider {row.name!r} is unavailable: its plugin is not enabled"
        )
    if provider.models_request(_route(provider, row, None)) is None:
        raise bad_request(f"Provider {row.name!r} has no model list to ask")
    credential = None
    for cred in await m.Credential.filter(provider_id=row.id, active=True).order_by("id"):
        try:
            values = json.loads(keyring.decrypt(cred.ciphertext))
        except (SecretError, ValueError):
            continue
        credential = Credential(cred.id, cred.name, {str(k): str(v) for k, v in values.items()})
        break
    route = _route(provider, row, credential)
    try:
        async with _client(settings, upstream) as client:
            listed = await list_models(client, route)
    except HubError as exc:
        raise HubError(
            400,
            "models_unavailable",
            f"Could not list the models of {row.name!r}: {exc.message}",
            extra={"detail": exc.full_message},
        ) from exc
    configured = (row.config or {}).get("models") or []
    return {"provider": row.name, "configured": configured, "upstream": listed}


def _route(provider: Any, row: m.Provider, credential: Credential | None) -> Route:
    base = row.base_url or provider.default_base_url
    return Route(provider, row.name, "", base, credential, row.id, dict(row.config or {}), row.region)
