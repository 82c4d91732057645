"""Providers and their credentials (encrypted at rest, always shown masked)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from hub_core.admin import plugin_config
from hub_core.config import Settings
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import HubError, bad_request, not_found
from hub_core.infra import schemas
from hub_core.infra.crypto import Keyring, mask
from hub_core.infra.plugin_host import PluginHost
from hub_core.providers.base import Provider
from hub_core.providers.compatible import KIND, compatible_provider, configured_models, endpoint_options
from hub_core.runtime.state import bump_generation

if TYPE_CHECKING:
    from hub_core.infra.upstream import UpstreamClient
    from hub_core.routing.verify import CheckResult

CREDENTIAL_TYPES = ("api_key", "access_key_pair", "custom")


def credential_dict(cred: m.Credential) -> dict[str, Any]:
    return {
        "id": cred.id,
        "providerId": cred.provider_id,  # type: ignore[attr-defined]
        "name": cred.name,
        "credentialType": cred.credential_type,
        "maskedValue": cred.masked,
        "displayText": cred.masked,
        "weight": cred.weight,
        "active": cred.active,
        "error": cred.error,
        "usageCount": cred.usage_count,
        "lastUsedAt": cred.last_used_at.isoformat() if cred.last_used_at else None,
        "createdAt": cred.created_at.isoformat() if cred.created_at else None,
    }


def provider_dict(row: m.Provider, host: PluginHost | None = None) -> dict[str, Any]:
    creds = list(getattr(row, "credentials", []) or []) if _fetched(row) else []
    plugin = host.provider_plugin(row.name) if host else None
    return {
        "id": row.id,
        **provider_audit(row),
        "plugin": plugin,
        "pluginEnabled": bool(host and plugin and host.is_enabled(plugin)),
        "credentials": [credential_dict(c) for c in creds],
        "createdAt": row.created_at.isoformat() if row.created_at else None,
        "updatedAt": row.updated_at.isoformat() if row.updated_at else None,
    }


def provider_audit(row: m.Provider) -> dict[str, Any]:
    """What the audit log keeps of a provider record (its config's secret-looking keys masked by
    `hub_core.db.audit.clean`)."""
    return {
        "name": row.name,
        "kind": row.kind,
        "displayName": row.display_name,
        "baseUrl": row.base_url,
        "region": row.region,
        "enabled": row.enabled,
        "config": dict(row.config or {}),
    }


def credential_audit(cred: m.Credential, provider: m.Provider) -> dict[str, Any]:
    """What the audit log keeps of a credential: never its value, only the masked form the API shows."""
    return {
        "provider": provider.name,
        "name": cred.name,
        "credentialType": cred.credential_type,
        "maskedValue": cred.masked,
        "weight": cred.weight,
        "active": cred.active,
    }


def _fetched(row: m.Provider) -> bool:
    try:
        list(row.credentials)
    except Exception:
        return False
    return True


async def get_provider(ref: str | int) -> m.Provider:
    if isinstance(ref, int) or str(ref).isdigit():
        row = await m.Provider.get_or_none(id=int(ref))
    else:
        row = await m.Provider.get_or_none(name=str(ref))
    if row is None:
        raise not_found(f"Provider {ref} not found")
    return row


def _check_base_url(url: object) -> str | None:
    if url is None or url == "":
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 500:
        raise bad_request("baseUrl must be an http(s) URL of at most 500 characters", param="baseUrl")
    return url.rstrip("/")


def check_endpoint_url(url: Any) -> str:
    """The base URL of an OpenAI-compatible endpoint: required, http(s) with a host, no user:password (the
    key goes into a credential, encrypted), no query or fragment (paths such as ``/chat/completions`` are
    appended to it)."""
    if not isinstance(url, str) or not url.strip():
        raise bad_request("baseUrl is required: the endpoint's OpenAI API root, e.g. http://host:8000/v1")
    url = url.strip()
    checked = _check_base_url(url)
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if not checked or not parts.hostname or not port_ok:
        raise bad_request(f"baseUrl {url[:100]!r} is not an http(s) URL with a host", param="baseUrl")
    if parts.username is not None or parts.password is not None:
        raise bad_request(
            "baseUrl must not carry a user or password; give the key as apiKey", param="baseUrl"
        )
    if parts.query or parts.fragment:
        raise bad_request("baseUrl must not have a query or fragment", param="baseUrl")
    return checked


MAX_MODELS = 1000


def check_models(models: Any) -> list[str] | None:
    """A provider's fixed model list (``config.models``): model ids; null or empty: ask the upstream."""
    if models is None or models == []:
        return None
    if not isinstance(models, list) or len(models) > MAX_MODELS:
        raise bad_request(f"models must be a list of at most {MAX_MODELS} model ids", param="models")
    out: list[str] = []
    for model in models:
        if not isinstance(model, str) or not model.strip() or len(model.strip()) > 200:
            raise bad_request("each model must be a model id of 1 to 200 characters", param="models")
        if model.strip() not in out:
            out.append(model.strip())
    return out


def adapter_for(host: PluginHost, row: m.Provider) -> Provider | None:
    """The provider that serves a record, or None when it is unavailable (its plugin is disabled or missing).
    An OpenAI-compatible record's is made from the record itself, so it is current even in a process that
    never loaded the configuration (the CLI)."""
    if row.kind != KIND:
        return host.provider(row.name)
    owner = host.provider_plugin(row.name)
    if owner not in (None, KIND) or not host.is_enabled(KIND) or not row.base_url:
        return None
    headers, stream_usage = endpoint_options(row.config)
    models = configured_models(row.config)
    return compatible_provider(
        row.name, row.display_name, row.base_url, models, headers=headers, stream_usage=stream_usage
    )


#: header names the hub sets itself (the key goes in a credential, encrypted)
_OWN_HEADERS = {"authorization", "content-type", "content-length", "host", "transfer-encoding", "connection"}
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")


def check_endpoint_config(config: Any) -> dict[str, Any]:
    """An OpenAI-compatible record's ``config``: ``models``, ``headers`` (name to value, sent with every
    request; not for secrets, which belong in a credential) and ``streamUsage`` (bool)."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise bad_request("config must be an object", param="config")
    out = dict(config)
    if "models" in out:
        models = check_models(out.pop("models"))
        if models:
            out["models"] = models
    headers = out.get("headers")
    if headers is not None:
        if not isinstance(headers, dict) or len(headers) > 50:
            raise bad_request("config.headers must be an object of at most 50 headers", param="config")
        for name, value in headers.items():
            if not _HEADER_NAME.match(name) or name.lower() in _OWN_HEADERS:
                raise bad_request(
                    f"config.headers: {name[:100]!r} is not a header the hub lets you set", param="config"
                )
            if not isinstance(value, str) or len(value) > 2000 or any(c in value for c in "\r\n\0"):
                raise bad_request(
                    f"config.headers: the value of {name!r} must be one line of text", param="config"
                )
    if "streamUsage" in out and not isinstance(out["streamUsage"], bool):
        raise bad_request("config.streamUsage must be a boolean", param="config")
    return out


async def add_provider(
    settings: Settings,
    host: PluginHost,
    name: str,
    *,
    display_name: str | None = None,
    base_url: str | None = None,
    region: str | None = None,
    enabled: bool = True,
    config: dict[str, Any] | None = None,
    actor: audit.Actor | None = None,
) -> m.Provider:
    adapter = host.providers.get(name)  # an OpenAI-compatible one has its record: a 409 below
    if adapter is None:
        known = ", ".join(sorted(n for n in host.providers if host.provider_plugin(n) != KIND))
        known = known or "none installed"
        raise bad_request(f"Unknown provider {name!r}; installed provider plugins: {known}", param="name")
    try:
        row = await m.Provider.create(
            name=name,
            display_name=str(display_name or adapter.display_name or name)[:100],
            base_url=_check_base_url(base_url),
            region=region,
            enabled=enabled,
            config=config or {},
        )
    except IntegrityError as exc:
        raise HubError(409, "conflict", f"Provider {name!r} already exists") from exc
    await audit.record(actor, "provider.create", "provider", row.id, after=provider_audit(row))
    await bump_generation(settings)
    return row


async def update_provider(
    settings: Settings, ref: str | int, changes: dict[str, Any], *, actor: audit.Actor | None = None
) -> m.Provider:
    row = await get_provider(ref)
    before = provider_audit(row)
    if "displayName" in changes:
        row.display_name = str(changes["displayName"])[:100]
    if "baseUrl" in changes:
        if row.kind == KIND:
            row.base_url = check_endpoint_url(changes["baseUrl"])
        else:
            row.base_url = _check_base_url(changes["baseUrl"])
    if "region" in changes:
        row.region = changes["region"] or None
    if "enabled" in changes:
        row.enabled = bool(changes["enabled"])
    if "config" in changes:
        if not isinstance(changes["config"], dict):
            raise bad_request("config must be an object", param="config")
        row.config = check_endpoint_config(changes["config"]) if row.kind == KIND else changes["config"]
    if "models" in changes:
        models = check_models(changes["models"])
        row.config = {k: v for k, v in (row.config or {}).items() if k != "models"}
        if models:
            row.config["models"] = models
    await row.save()
    await audit.record(actor, "provider.update", "provider", row.id, before=before, after=provider_audit(row))
    await bump_generation(settings)
    return row


async def delete_provider(settings: Settings, ref: str | int, *, actor: audit.Actor | None = None) -> None:
    row = await get_provider(ref)
    before = provider_audit(row)
    await row.delete()
    await audit.record(actor, "provider.delete", "provider", row.id, before=before)
    await bump_generation(settings)


def credential_values(value: Any, schema: dict[str, Any]) -> dict[str, str]:
    """Accept a bare string (the API key) or an object with the schema's fields."""
    if isinstance(value, str):
        values = {"api_key": value}
    elif isinstance(value, dict):
        values = {str(k): str(v) for k, v in value.items() if v not in (None, "")}
    else:
        raise bad_request("value must be a string or an object", param="value")
    for field_name in schema.get("required", []):
        if not values.get(field_name):
            raise bad_request(f"credential field {field_name!r} is required", param="value")
    schemas.check(schema, values, what="credential field", param="value")
    return values


def _masked(values: dict[str, str], schema: dict[str, Any]) -> str:
    props = schema.get("properties", {})
    parts = []
    for key, val in values.items():
        prop = props.get(key, {})
        secret = schemas.is_secret(prop) or ("secret" not in prop and key not in ("access_key_id", "region"))
        parts.append(mask(val) if secret else val)
    return " / ".join(parts)[:200]


async def add_credential(
    settings: Settings,
    host: PluginHost,
    keyring: Keyring,
    provider_ref: str | int,
    value: Any,
    *,
    name: str | None = None,
    weight: int = 100,
    credential_type: str = "api_key",
    verify: bool = False,
    upstream: UpstreamClient | None = None,
    test_model: str | None = None,
    actor: audit.Actor | None = None,
) -> m.Credential:
    """Store a credential. With `verify` (on in the admin API and the CLI) a live test call must accept it
    first (`hub_core.routing.verify`); a refused one is a 400 with the vendor's words as ``detail``."""
    row = await get_provider(provider_ref)
    schema = _schema_for(host, row)
    values = credential_values(value, schema)
    if credential_type not in CREDENTIAL_TYPES:
        raise bad_request(
            f"credentialType must be one of {', '.join(CREDENTIAL_TYPES)}", param="credentialType"
        )
    if not 1 <= int(weight) <= 10_000:
        raise bad_request("weight must be between 1 and 10000", param="weight")
    if verify:
        await verify_values(settings, host, row, values, upstream=upstream, test_model=test_model)
    count = await m.Credential.filter(provider_id=row.id).count()
    cred = await m.Credential.create(
        provider=row,
        name=(name or f"{row.name}-{count + 1}")[:100],
        credential_type=credential_type,
        ciphertext=keyring.encrypt(json.dumps(values)),
        masked=_masked(values, schema),
        weight=int(weight),
    )
    await audit.record(actor, "credential.create", "credential", cred.id, after=credential_audit(cred, row))
    await bump_generation(settings)
    return cred


async def update_credential(
    settings: Settings,
    host: PluginHost,
    keyring: Keyring,
    provider_ref: str | int,
    cred_id: int,
    changes: dict[str, Any],
    *,
    verify: bool = False,
    upstream: UpstreamClient | None = None,
    test_model: str | None = None,
    actor: audit.Actor | None = None,
) -> m.Credential:
    row = await get_provider(provider_ref)
    cred = await m.Credential.get_or_none(id=cred_id, provider_id=row.id)
    if cred is None:
        raise not_found(f"Credential {cred_id} not found")
    before = credential_audit(cred, row)
    if "value" in changes and changes["value"] not in (None, ""):
        schema = _schema_for(host, row)
        values = credential_values(changes["value"], schema)
        if verify:
            await verify_values(settings, host, row, values, upstream=upstream, test_model=test_model)
        cred.ciphertext = keyring.encrypt(json.dumps(values))
        cred.masked = _masked(values, schema)
        cred.active, cred.error = True, None
    if "name" in changes:
        cred.name = str(changes["name"])[:100]
    if "weight" in changes:
        if not 1 <= int(changes["weight"]) <= 10_000:
            raise bad_request("weight must be between 1 and 10000", param="weight")
        cred.weight = int(changes["weight"])
    if "active" in changes:
        cred.active = bool(changes["active"])
        if cred.active:
            cred.error = None
    await cred.save()
    after = credential_audit(cred, row)
    await audit.record(actor, "credential.update", "credential", cred.id, before=before, after=after)
    await bump_generation(settings)
    return cred


async def delete_credential(
    settings: Settings, provider_ref: str | int, cred_id: int, *, actor: audit.Actor | None = None
) -> None:
    row = await get_provider(provider_ref)
    cred = await m.Credential.get_or_none(id=cred_id, provider_id=row.id)
    deleted = await m.Credential.filter(id=cred_id, provider_id=row.id).delete()
    if not deleted or cred is None:
        raise not_found(f"Credential {cred_id} not found")
    await audit.record(actor, "credential.delete", "credential", cred_id, before=credential_audit(cred, row))
    await bump_generation(settings)


# --- live checks (hub_core.routing.verify) -------------------------------------------------------------


@contextlib.asynccontextmanager
async def _client(settings: Settings, upstream: UpstreamClient | None) -> AsyncIterator[UpstreamClient]:
    """The hub's upstream client, or a short-lived one (the CLI has no running hub)."""
    if upstream is not None:
        yield upstream
        return
    from hub_core.infra.upstream import UpstreamClient

    client = UpstreamClient(settings)
    try:
        yield client
    finally:
        await client.close()


async def check_values(
    settings: Settings,
    host: PluginHost,
    row: m.Provider,
    values: dict[str, str],
    *,
    upstream: UpstreamClient | None = None,
    test_model: str | None = None,
) -> CheckResult:
    """Make the provider's test call with `values` (nothing is stored)."""
    from hub_core.routing.verify import check_credential

    provider = adapter_for(host, row)
    if provider is None:
        raise HubError(
            503, "provider_disabled", f"Provider {row.name!r} cannot be checked: its plugin is not enabled"
        )
    async with _client(settings, upstream) as client:
        return await check_credential(
            client,
            row.name,
            provider,
            values,
            base_url=row.base_url,
            config=row.config or {},
            provider_id=row.id,
            region=row.region,
            test_model=test_model or None,
        )


async def verify_values(
    settings: Settings,
    host: PluginHost,
    row: m.Provider,
    values: dict[str, str],
    *,
    upstream: UpstreamClient | None = None,
    test_model: str | None = None,
) -> CheckResult:
    """`check_values`, refusing (400) credentials the vendor did not accept."""
    from hub_core.routing.verify import raise_unless_valid

    result = await check_values(settings, host, row, values, upstream=upstream, test_model=test_model)
    raise_unless_valid(result)
    return result


async def check_credential_value(
    settings: Settings,
    host: PluginHost,
    provider_ref: str | int,
    value: Any,
    *,
    upstream: UpstreamClient | None = None,
    test_model: str | None = None,
) -> CheckResult:
    """Test a credential value without saving it."""
    row = await get_provider(provider_ref)
    values = credential_values(value, _schema_for(host, row))
    return await check_values(settings, host, row, values, upstream=upstream, test_model=test_model)


async def check_stored_credential(
    settings: Settings,
    host: PluginHost,
    keyring: Keyring,
    provider_ref: str | int,
    cred_id: int,
    *,
    upstream: UpstreamClient | None = None,
    test_model: str | None = None,
) -> tuple[m.Credential, CheckResult]:
    """Re-validate a stored credential: switch it on when the vendor accepts it, off (with the vendor's
    message) when it refuses it; an inconclusive check changes nothing."""
    from hub_core.routing.verify import check_stored

    row = await get_provider(provider_ref)
    cred = await m.Credential.get_or_none(id=cred_id, provider_id=row.id)
    if cred is None:
        raise not_found(f"Credential {cred_id} not found")
    async with _client(settings, upstream) as client:
        result = await check_stored(client, host, keyring, cred, row, test_model or None)
    if result.valid and (not cred.active or cred.error):
        cred.active, cred.error = True, None
    elif result.verdict == "invalid":
        cred.active, cred.error = False, (result.detail or "Invalid credentials")[:2000]
    else:
        return cred, result
    await cred.save(update_fields=["active", "error", "updated_at"])
    await bump_generation(settings)
    return cred, result


async def rotate_secrets(keyring: Keyring, *, actor: audit.Actor | None = None) -> dict[str, Any]:
    """Re-encrypt every credential and secret plugin setting under a new master key and drop keys nothing
    uses any more."""
    from tortoise.transactions import in_transaction

    file_based = keyring.path is not None
    if file_based:
        keyring.add_new_key()
        keyring.save()  # the new key is on disk before any value depends on it
    count = 0
    async with in_transaction():
        for cred in await m.Credential.all():
            plaintext = keyring.decrypt(cred.ciphertext)
            cred.ciphertext = keyring.encrypt(plaintext)
            await cred.save(update_fields=["ciphertext", "updated_at"])
            count += 1
        settings_count = await plugin_config.reencrypt(keyring)  # secret plugin settings: same keyring
    dropped: list[str] = []
    if file_based:
        dropped = [kid for kid in keyring.keys if kid != keyring.current]
        for kid in dropped:
            del keyring.keys[kid]
        keyring.save()
    result = {
        "reencrypted": count,
        "reencryptedSettings": settings_count,
        "currentKeyId": keyring.current,
        "droppedKeyIds": dropped,
    }
    # which key ids, how many values: never a key or value
    await audit.record(actor, "secrets.rotate", "keyring", result.get("currentKeyId"), after=result)
    return result


def _schema_for(host: PluginHost, row: m.Provider) -> dict[str, Any]:
    adapter = host.providers.get(row.name) if row.kind != KIND else adapter_for(host, row)
    return dict(adapter.credential_schema) if adapter else {"required": ["api_key"]}
