"""A JWT auth plugin written as a third party would, against the public API only (`hub_core`): HS256 tokens
signed with a secret setting, users found or created through ``hub.users`` on first sign-in, and
``can_authenticate`` saying whether it is configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from hub_core import Caller, HubAPI, HubError, hookimpl

config_schema: dict[str, Any] = {
    "type": "object",
    "properties": {
        "signing_key": {"type": "string", "title": "HS256 signing key", "writeOnly": True, "minLength": 16},
        "issuer": {"type": "string", "title": "Accepted issuer", "default": "https://idp.example"},
    },
}


def can_authenticate(config: dict[str, Any]) -> bool:
    return bool(config.get("signing_key"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(claims: dict[str, Any], key: str) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def _claims(token: str, key: str) -> dict[str, Any] | None:
    head, body, sig = token.split(".")
    good = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(good, _unb64(sig)):
        return None
    claims: dict[str, Any] = json.loads(_unb64(body))
    return claims if claims.get("exp", time.time() + 1) > time.time() else None


@hookimpl
async def auth_from_request(request: Any, hub: HubAPI, config: dict[str, Any]) -> Caller | None:
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if token.count(".") != 2 or not config.get("signing_key"):
        return None  # not a JWT (an access key): leave it to key_auth
    claims = _claims(token, config["signing_key"])
    if claims is None or claims.get("iss") != config["issuer"] or not claims.get("sub"):
        raise HubError(401, "invalid_token", "Unauthorized: invalid or expired token")
    user = await hub.users.get_or_create_for_identity(
        claims["iss"], claims["sub"], name=claims.get("name") or claims["sub"], email=claims.get("email")
    )
    return hub.users.caller(user)
