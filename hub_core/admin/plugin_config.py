"""Plugin settings: values for a plugin's ``config_schema``, stored in ``hub_state`` as
``plugin_config:<name>`` (JSON) so every hub instance applies them after a generation bump.

The schema is a small JSON-schema subset: an object whose properties are string / number / integer /
boolean, with optional ``enum``, ``default``, ``title``, ``description`` and a ``required`` list.
"""

from __future__ import annotations

import json
from typing import Any

from hub_core.config import Settings
from hub_core.db import models as m
from hub_core.errors import bad_request, not_found
from hub_core.infra.plugin_host import PluginHost
from hub_core.runtime.state import PLUGIN_CONFIG_PREFIX, bump_generation

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
}


def schema_of(host: PluginHost, name: str) -> tuple[str, dict[str, Any]]:
    """The plugin's resolved name and config schema; 404 for an unknown plugin or one without settings."""
    resolved = host.resolve_name(name)
    if resolved is None:
        raise not_found(f"Plugin {name!r} not found; see `aigne-hub plugins list`")
    schema = host.infos[resolved].config_schema
    if not schema:
        raise not_found(f"Plugin {resolved!r} has no settings (it declares no config_schema)")
    return resolved, schema


def validate(schema: dict[str, Any], values: Any) -> dict[str, Any]:
    """The values, checked against the schema: unknown fields, types, enums and required fields are refused
    with a 400 naming the field."""
    if not isinstance(values, dict):
        raise bad_request("settings must be a JSON object")
    props: dict[str, Any] = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for key, value in values.items():
        prop = props.get(key)
        if prop is None:
            raise bad_request(f"{key} is not a setting of this plugin", param=key)
        if value is None:
            continue  # null clears the value (the default applies again)
        out[key] = _checked(key, prop, value)
    for key in schema.get("required") or []:
        if key not in out and "default" not in props.get(key, {}):
            raise bad_request(f"{key} is required", param=key)
    return out


def _checked(key: str, prop: dict[str, Any], value: Any) -> Any:
    kind = prop.get("type", "string")
    types = _TYPES.get(kind)
    # bool is an int in Python, but never a number in JSON
    if types is None or isinstance(value, bool) != (kind == "boolean") or not isinstance(value, types):
        article = "an" if kind == "integer" else "a"
        raise bad_request(f"{key} must be {article} {kind}", param=key)
    if kind == "number" and value != value:  # nan
        raise bad_request(f"{key} must be a number", param=key)
    if "enum" in prop and value not in prop["enum"]:
        allowed = ", ".join(json.dumps(v) for v in prop["enum"])
        raise bad_request(f"{key} must be one of {allowed}", param=key)
    return value


async def save(settings: Settings, name: str, values: dict[str, Any]) -> None:
    await m.HubState.update_or_create(key=PLUGIN_CONFIG_PREFIX + name, defaults={"value": json.dumps(values)})
    await bump_generation(settings)
