"""An auth plugin that can only authenticate once an admin configured it (its ``password`` setting): it says
so with ``can_authenticate``, so the hub never counts it as a way in while it is unconfigured."""

from __future__ import annotations

from typing import Any

from hub_core import Caller, hookimpl

config_schema: dict[str, Any] = {
    "type": "object",
    "properties": {"password": {"type": "string", "title": "Password", "writeOnly": True, "minLength": 8}},
}


def can_authenticate(config: dict[str, Any]) -> bool:
    return bool(config.get("password"))


@hookimpl
def auth_from_request(request: Any) -> Caller | None:
    return None  # the guard test only needs to know whether it could
