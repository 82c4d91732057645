"""Helpers for tests of billing modes and payment plugins, against a running `HubServer`: HTTP calls, the
active mode, model rates, users, and waiting until calls are settled. Everything goes through the hub's admin
HTTP API, as an operator would. A billing plugin ships the helpers for its own tables (the credits mode's are
`hub_billing_credits.testing`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from hub_core.testing.server import HubServer


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    method: str, url: str, key: str | None = None, body: Any = None, headers: dict[str, str] | None = None
) -> Answer:
    """One HTTP request with the standard library; JSON in, JSON (or text) out, errors as answers."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw, status, out_headers = resp.read(), resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        raw, status, out_headers = exc.read(), exc.code, dict(exc.headers)
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Answer(status, parsed, {k.lower(): v for k, v in out_headers.items()})


def ok(answer: Answer) -> Any:
    assert 200 <= answer.status < 300, f"HTTP {answer.status}: {answer.body}"
    return answer.body


def use_mode(server: HubServer, mode: str, **settings: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"mode": mode}
    if settings:
        body["settings"] = settings
    return ok(call("PUT", f"{server.url}/api/admin/billing", server.admin_key, body))


def set_rate(
    server: HubServer,
    provider: str,
    model: str,
    input_rate: Any,
    output_rate: Any,
    kind: str = "chat",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "provider": provider,
        "model": model,
        "type": kind,
        "inputRate": str(input_rate),
        "outputRate": str(output_rate),
        **extra,
    }
    return ok(call("POST", f"{server.url}/api/ai-providers/model-rates", server.admin_key, body))


def new_user(server: HubServer, name: str = "user") -> tuple[int, str]:
    """A member and their access key: (user id, key)."""
    from hub_core.admin import users

    async def go() -> tuple[int, str]:
        user = await users.create_user(name, "member")
        return user.id, (await users.create_key(user, name, "member"))[1]

    return server.run(go)


def user_did(server: HubServer, user_id: int) -> str:
    from hub_core.db import models as m

    async def go() -> str:
        return (await m.User.get(id=user_id)).did

    return server.run(go)


def settled(server: HubServer) -> None:
    """Wait until every finished call is settled and in the usage log."""

    async def go() -> None:
        await server.hub.gateway.drain()
        await server.hub.writer.flush()

    server.run(go)
