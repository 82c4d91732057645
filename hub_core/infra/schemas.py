"""JSON-schema checks for what plugins declare: settings (``config_schema``) and credential fields
(``credential_schema``), validated by the ``jsonschema`` package with 400 errors that name the field.

A field is *secret* when its schema says ``"secret": true``, ``"writeOnly": true`` or
``"format": "password"``: the hub stores it encrypted and only ever shows it masked.
"""

from __future__ import annotations

import json
from typing import Any

from hub_core.errors import bad_request
from hub_core.infra.crypto import Keyring, SecretError, mask


def is_secret(prop: Any) -> bool:
    """Whether a property of a settings or credential schema holds a secret."""
    if not isinstance(prop, dict):
        return False
    return prop.get("secret") is True or prop.get("writeOnly") is True or prop.get("format") == "password"


def secret_fields(schema: dict[str, Any] | None) -> list[str]:
    props = (schema or {}).get("properties") or {}
    return sorted(k for k, p in props.items() if is_secret(p))


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a usable JSON schema (a plugin bug, reported when the plugin loads), or None."""
    from jsonschema import SchemaError, validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"{exc.message}" + (f" (at {where})" if where else "")
    return None


def check(
    schema: dict[str, Any], values: Any, *, what: str, param: str | None = None, partial: bool = False
) -> None:
    """Validate `values` against the whole of `schema` (every keyword: ``minLength``, ``pattern``,
    ``maximum`` ...). The first error, in the order of the schema's fields, is a 400 naming the field;
    `what` names the thing in messages (``"setting"``, ``"credential field"``); `param` is the error's
    ``param`` (default: the field). `partial` skips the top-level ``required`` list (one field set at a
    time, `missing_required` tells what is still missing)."""
    from jsonschema import validators

    validator = validators.validator_for(schema)(schema)
    errors = [
        e for e in validator.iter_errors(values) if not (partial and e.validator == "required" and not e.path)
    ]
    if not errors:
        return
    order = {k: i for i, k in enumerate(schema.get("properties") or {})}
    error = min(errors, key=lambda e: (order.get(_field(e) or "", len(order)), str(e.message)))
    field = _field(error)
    props = schema.get("properties") or {}
    # a field's own error may quote its value unless it is a secret; an error about the whole object may
    # quote every value, so only when there is no secret among them
    secret = is_secret(props.get(field)) if field is not None else bool(secret_fields(schema))
    raise bad_request(_message(error, field, what, secret), param=param or field)


def missing_required(schema: dict[str, Any], values: dict[str, Any]) -> list[str]:
    return [k for k in schema.get("required") or [] if k not in values]


def _field(error: Any) -> str | None:
    """The top-level field an error is about (``required`` and ``additionalProperties`` errors are
    reported on the object, so the field is read from the error itself)."""
    if error.path:
        return str(error.path[0])
    if error.validator == "required":
        return str(error.message.split("'")[1]) if "'" in error.message else None
    if error.validator == "additionalProperties":
        extra = [k for k in error.instance if k not in (error.schema.get("properties") or {})]
        return str(extra[0]) if extra else None
    return None


def _message(error: Any, field: str | None, what: str, secret: bool) -> str:
    kind = error.validator
    if field is None:
        if secret:
            return f"the {what}s do not satisfy {kind} {json.dumps(error.validator_value)}"
        return f"{what}s: {error.message}"
    if kind == "required":
        return f"{field} is required"
    if kind == "additionalProperties":
        return f"{field} is not a {what} of this plugin"
    if len(error.path) == 1:
        if kind == "type" and isinstance(error.validator_value, str):
            article = "an" if error.validator_value in ("integer", "object", "array") else "a"
            return f"{field} must be {article} {error.validator_value}"
        if kind == "enum":
            return f"{field} must be one of {', '.join(json.dumps(v) for v in error.validator_value)}"
        if kind == "minLength" and error.validator_value == 1:
            return f"{field} must not be empty"
    where = "/".join(str(p) for p in error.path) or field
    if secret:  # jsonschema's messages quote the value, and a secret is never echoed
        return f"{where} does not satisfy {kind} {json.dumps(error.validator_value)}"
    return f"{where}: {error.message}"


# --- secret fields at rest -------------------------------------------------------------------------------

#: how a stored settings object marks an encrypted value: ``{"token": {"$encrypted": "<keyring token>"}}``
ENCRYPTED = "$encrypted"


def seal(keyring: Keyring, schema: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """`values` as stored: the schema's secret fields encrypted with the hub's keyring (any JSON value)."""
    secret = set(secret_fields(schema))
    return {k: {ENCRYPTED: keyring.encrypt(json.dumps(v))} if k in secret else v for k, v in values.items()}


def unseal(keyring: Keyring, stored: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Stored values with encrypted ones decrypted, and the fields that could not be (a lost key). A plain
    value stays as it is, so settings stored before their field was marked secret keep working."""
    out: dict[str, Any] = {}
    unreadable: list[str] = []
    for key, value in stored.items():
        if isinstance(value, dict) and set(value) == {ENCRYPTED}:
            try:
                out[key] = json.loads(keyring.decrypt(str(value[ENCRYPTED])))
            except (SecretError, ValueError):
                unreadable.append(key)
            continue
        out[key] = value
    return out, unreadable


def masked(schema: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """`values` for showing: each secret field as ``sk-a…wxyz`` (``***`` for a short one)."""
    secret = set(secret_fields(schema))
    return {
        k: mask(v if isinstance(v, str) else json.dumps(v)) if k in secret else v for k, v in values.items()
    }
