"""Plugin settings: values for a plugin's ``config_schema``, stored in ``hub_state`` as
``plugin_config:<name>`` (JSON) so every hub instance applies them after a generation bump.

Values are validated against the whole JSON schema (`hub_core.infra.schemas`); secret fields are stored
encrypted with the hub's keyring and only ever shown masked.
"""

from __future__ import annotations

import json
from typing import Any

from hub_core.config import Settings
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import bad_request, not_found
from hub_core.infra import schemas
from hub_core.infra.crypto import Keyring
from hub_core.infra.plugin_host import PluginHost
from hub_core.runtime.state import PLUGIN_CONFIG_PREFIX, bump_generation


def schema_of(host: PluginHost, name: str) -> tuple[str, dict[str, Any]]:
    """The plugin's resolved name and config schema; 404 for an unknown plugin or one without settings."""
    resolved = host.resolve_name(name)
    if resolved is None:
        raise not_found(f"Plugin {name!r} not found; see `aigne-hub plugins list`")
    schema = host.infos[resolved].config_schema
    if not schema:
        raise not_found(f"Plugin {resolved!r} has no settings (it declares no config_schema)")
    return resolved, schema


def validate(
    schema: dict[str, Any], values: Any, stored: dict[str, Any] | None = None, *, partial: bool = False
) -> dict[str, Any]:
    """The values to store, checked against the whole schema with the defaults applied (so a required field
    with a default is satisfied); a problem is a 400 naming the field. ``null`` clears a value. A secret
    field left out keeps its `stored` value, so a form that never shows a secret can be saved unchanged.
    `partial` (the CLI, one field at a time) lets required fields be missing."""
    if not isinstance(values, dict):
        raise bad_request("settings must be a JSON object")
    out = {k: v for k, v in values.items() if v is not None}
    for key in schemas.secret_fields(schema):
        if key not in values and stored and key in stored:
            out[key] = stored[key]
    for key, value in out.items():
        if isinstance(value, float) and value != value:  # nan: JSON has none, Python's parser allows it
            raise bad_request(f"{key} must be a number", param=key)
    strict = schema if "additionalProperties" in schema else {**schema, "additionalProperties": False}
    schemas.check(strict, {**defaults(schema), **out}, what="setting", partial=partial)
    return out


def defaults(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties") or {}
    return {k: p["default"] for k, p in props.items() if isinstance(p, dict) and "default" in p}


def view(
    name: str, schema: dict[str, Any], stored: dict[str, Any], effective: dict[str, Any]
) -> dict[str, Any]:
    """What the settings API and ``aigne-hub plugins config`` show: secret fields masked."""
    return {
        "name": name,
        "schema": schema,
        "secretFields": schemas.secret_fields(schema),
        "values": schemas.masked(schema, stored),
        "effective": schemas.masked(schema, effective),
    }


async def stored(keyring: Keyring, name: str) -> dict[str, Any]:
    """A plugin's stored values, decrypted (for a process without a running hub: the CLI)."""
    row = await m.HubState.get_or_none(key=PLUGIN_CONFIG_PREFIX + name)
    data = json.loads(row.value) if row is not None else {}
    return schemas.unseal(keyring, data)[0] if isinstance(data, dict) else {}


async def save(
    settings: Settings,
    keyring: Keyring,
    name: str,
    schema: dict[str, Any],
    values: dict[str, Any],
    *,
    actor: audit.Actor | None = None,
) -> None:
    """Store a plugin's settings; the audit log keeps them with secret fields masked (`schemas.masked`)."""
    before = await stored(keyring, name)
    sealed = schemas.seal(keyring, schema, values)
    await m.HubState.update_or_create(key=PLUGIN_CONFIG_PREFIX + name, defaults={"value": json.dumps(sealed)})
    await audit.record(
        actor,
        "plugin.config",
        "plugin",
        name,
        before=schemas.masked(schema, before),
        after=schemas.masked(schema, values),
    )
    await bump_generation(settings)


async def reencrypt(keyring: Keyring) -> int:
    """Re-encrypt every stored secret setting under the keyring's current key (`rotate_secrets`);
    returns how many values were re-encrypted."""
    count = 0
    for row in await m.HubState.filter(key__startswith=PLUGIN_CONFIG_PREFIX):
        try:
            data = json.loads(row.value)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        changed = False
        for key, value in data.items():
            if isinstance(value, dict) and set(value) == {schemas.ENCRYPTED}:
                data[key] = {schemas.ENCRYPTED: keyring.encrypt(keyring.decrypt(value[schemas.ENCRYPTED]))}
                changed, count = True, count + 1
        if changed:
            row.value = json.dumps(data)
            await row.save()
    return count
