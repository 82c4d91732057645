"""Access-key authentication: ``Authorization: Bearer``, ``x-api-key`` or the ``access_token`` query
parameter, else the console's session cookie.

A raw key in a cookie is deliberately not accepted: a browser would send it on cross-site requests, and only
the session cookie (`hub_core.admin.sessions`) carries the CSRF protection such requests need."""

from __future__ import annotations

from quart import Request

from hub_core.admin.sessions import caller_from_session
from hub_core.config import Settings
from hub_core.errors import HubError
from hub_core.hookspecs import hookimpl
from hub_core.pipeline.context import request_header
from hub_core.runtime.state import RuntimeState
from hub_core.types import Caller


def token_from_request(request: Request) -> str | None:
    found: list[str] = []
    auth = request_header(request, "authorization") or ""
    if auth[:7].lower() == "bearer ":
        found.append(auth[7:].strip())
    if api_key := request_header(request, "x-api-key"):
        found.append(api_key.strip())
    if request.query_string and (query := request.args.get("access_token")):  # parse only when there is one
        found.append(query)
    distinct = set(found)
    if len(distinct) > 1:
        raise HubError(400, "ambiguous_credentials", "Access token found in multiple locations")
    return found[0] if found else None


class KeyAuthPlugin:
    def __init__(self, state: RuntimeState) -> None:
        self.state = state

    @hookimpl(trylast=True)
    async def auth_from_request(self, request: Request, settings: Settings) -> Caller | None:
        token = token_from_request(request)
        if not token:
            # The console's sign-in cookie (hub_core.admin.sessions); an explicit key always wins over it.
            return await caller_from_session(request)
        return await self.state.authenticate(token, request.remote_addr)
