"""A plugin whose ``config_schema`` is not a JSON schema (``minLength`` must be a number): refused at load."""

from __future__ import annotations

from typing import Any

config_schema: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": "three"}},
}
