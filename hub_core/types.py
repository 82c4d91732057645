"""Plain data passed between the core, the hooks and the plugins.

These are the nouns of the plugin API: who is calling (`Caller`), where a call goes (`Route`), the secret it
carries (`Credential`), what the upstream is asked (`UpstreamRequest`) and what a finished call leaves behind
(`Usage`, `CallRecord`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from hub_core.config import Settings
    from hub_core.providers.base import Provider

Role = Literal["owner", "admin", "member"]
Kind = Literal["chat", "embedding", "image", "video"]
ROLE_RANK: dict[str, int] = {"member": 1, "admin": 2, "owner": 3}


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user behind a request."""

    user_id: int
    user_did: str
    name: str
    role: Role
    key_id: int | None = None
    key_name: str | None = None

    @property
    def is_admin(self) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK["admin"]


@dataclass(frozen=True, slots=True)
class HubUser:
    """A hub user as `HubAPI.users` hands it to plugins (a snapshot: change it through the service)."""

    id: int
    did: str
    name: str
    email: str | None
    role: Role
    disabled: bool


@dataclass(frozen=True, slots=True)
class AuditActor:
    """Who made an admin change, as the audit log names them: ``kind`` is ``user`` (a signed-in admin through
    the API; `hub_core.web.audit_actor()` builds it), ``cli`` (an ``aigne-hub`` command;
    `hub_core.cli.cli_actor()`) or ``system`` (in-process code that names nobody)."""

    kind: Literal["user", "cli", "system"]
    user_id: int | None = None
    name: str | None = None
    key_id: int | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    """A decrypted provider credential. `values` holds the fields of the provider's credential schema."""

    id: int | None
    name: str
    values: dict[str, str]
    source: Literal["db", "env"] = "db"

    @property
    def api_key(self) -> str:
        return self.values.get("api_key", "")


@dataclass(slots=True)
class Route:
    """Where one call goes: the provider plugin, its configured record, the upstream model and the secret."""

    provider: Provider
    provider_name: str
    model: str
    base_url: str
    credential: Credential | None
    provider_id: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    #: the provider record's region (Bedrock signs for it); None when not set
    region: str | None = None

    @property
    def model_with_provider(self) -> str:
        return f"{self.provider_name}/{self.model}"


@dataclass(slots=True)
class UpstreamRequest:
    """An HTTP request to a provider, built by the provider and completed by `prepare_upstream_request`."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    body: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Usage:
    """Token and unit counts as the provider reported them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    images: int = 0
    seconds: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


CallStatus = Literal["success", "error", "aborted"]


@dataclass(slots=True)
class CallRecord:
    """Everything the hub knows about one finished call; handed to `on_call_finished` observers."""

    request_id: str
    endpoint: str
    kind: str
    model: str
    started_at: float = field(default_factory=time.time)
    user_id: int | None = None
    key_id: int | None = None
    app_did: str | None = None
    provider: str | None = None
    provider_id: int | None = None
    upstream_model: str | None = None
    credential_id: int | None = None
    stream: bool = False
    status: CallStatus = "success"
    http_status: int = 200
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    duration_ms: float = 0.0
    ttfb_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class HubAPI(Protocol):
    """What a plugin may use of the hub it runs in: the ``hub`` parameter every hook is offered.

    One process may run several hubs (tests, embedding), so a plugin keeps per-hub state keyed by the hub it
    is given, never in module globals. Inside a route handler, ``hub_core.web.current_hub()`` is the same.
    """

    @property
    def settings(self) -> Settings:
        """The hub's settings (data dir, database URL, mount path ...)."""
        ...

    def plugin_config(self, name: str) -> dict[str, Any]:
        """Plugin `name`'s settings: its schema's defaults overlaid with the stored values, read live (an
        admin's change applies on the next call, on every instance)."""
        ...

    @property
    def users(self) -> Users:
        """The hub's users, for auth plugins: find, create and map external identities (`Users`)."""
        ...

    async def audit(
        self,
        action: str,
        target_type: str,
        target_id: object | None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        actor: AuditActor | None = None,
    ) -> None:
        """Record an admin change in the hub's audit log (``GET /api/admin/audit``): `action` as
        ``<area>.<verb>`` (e.g. ``credits.grant``), what it changed (`target_type`, `target_id`), the
        record `before` and `after` (None for a creation / deletion; JSON-safe values, secret-looking keys
        are masked) and `actor` (None records ``system``). Call it once the change is made; a failure to
        record raises."""
        ...


class Users(Protocol):
    """The hub's users as an auth plugin needs them (``hub.users``): look a user up, create one on first
    sign-in, map an external identity (an issuer and a subject, e.g. a JWT's ``iss`` and ``sub``) to a user,
    and turn the user into the `Caller` that ``auth_from_request`` returns. Every method is ``async``."""

    async def find(
        self,
        *,
        id: int | None = None,
        did: str | None = None,
        email: str | None = None,
        identity: tuple[str, str] | None = None,
    ) -> HubUser | None:
        """The user with this id, DID, email (the oldest, when several share it) or mapped ``(issuer,
        subject)`` identity; None when there is none. Give exactly one."""
        ...

    async def get_or_create(
        self, did: str, name: str, email: str | None = None, role: Role = "member"
    ) -> HubUser:
        """The user with this DID, created with `name`, `email` and `role` (``member`` or ``admin``; never
        ``owner``) when there is none. An existing user is returned unchanged."""
        ...

    async def link(self, issuer: str, subject: str, user: HubUser | int) -> HubUser:
        """Map the external identity ``(issuer, subject)`` to `user` (a `HubUser` or its id), so
        ``find(identity=(issuer, subject))`` finds it. Mapping an identity to the user it already belongs to
        is a no-op; mapping it to another user is refused (409 ``identity_taken``)."""
        ...

    async def get_or_create_for_identity(
        self, issuer: str, subject: str, name: str, email: str | None = None, role: Role = "member"
    ) -> HubUser:
        """The user mapped to ``(issuer, subject)``; on its first sign-in a new user (DID derived from the
        identity) is created and mapped, in one step."""
        ...

    async def search(
        self,
        *,
        name: str | None = None,
        ids: Iterable[int] | None = None,
        role: Role | None = None,
        limit: int = 1000,
    ) -> list[HubUser]:
        """Users whose name contains `name` (any case), whose id is in `ids` and whose role is `role` (each
        when given), oldest first, at most `limit`."""
        ...

    def caller(self, user: HubUser) -> Caller:
        """The `Caller` to return from ``auth_from_request`` for `user`; a disabled user is refused (401)."""
        ...


def random_id() -> str:
    """A new id as 32 hex digits: a version-7 UUID (RFC 9562), the Unix time in milliseconds then 74 random
    bits. Every request gets one and every billed call, and both are indexed columns: ids that sort by
    creation time are appended to the index, where random (version-4) ids each landed on a random page of
    it, which made inserting usage rows about three times as expensive (measured in bench/)."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = raw[6] & 0x0F | 0x70  # version 7
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 9562 variant
    return raw.hex()
