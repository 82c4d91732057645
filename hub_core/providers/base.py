"""The provider contract.

A provider plugin only translates: it builds the upstream HTTP request from the hub's standard request
(OpenAI Chat Completions shape), puts a credential into it, and turns the answer back into the standard
shape through a `Normalizer`. The core owns HTTP, timeouts, keys, routing and usage.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from hub_core.errors import HubError, upstream_auth_failed
from hub_core.providers.image_edit import IMAGE_EDIT, is_edit
from hub_core.types import Credential, Route, UpstreamRequest, Usage

API_KEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["api_key"],
    "properties": {"api_key": {"type": "string", "title": "API key", "secret": True, "minLength": 1}},
}


class Chunk:
    """One standard stream chunk (a ``chat.completion.chunk``-shaped object).

    `raw` holds the JSON bytes when the upstream already spoke the standard dialect, so same-dialect streams
    pass through byte for byte; `data` parses them only when someone asks.
    """

    __slots__ = ("_data", "raw", "usage_only")

    def __init__(
        self, data: dict[str, Any] | None = None, raw: bytes | None = None, usage_only: bool = False
    ):
        self._data = data
        self.raw = raw
        self.usage_only = usage_only

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self.raw or b"{}")
        return self._data

    def to_bytes(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self._data, separators=(",", ":"), ensure_ascii=False).encode()


class Chunks(list[Chunk]):
    """Chunks as a normalizer returns them, plus what it knows about them as a whole: `sse`, the exact
    bytes of their events (``data: ...`` each, in order) when an upstream of the standard dialect framed
    them so, for a renderer of that dialect to send as they are; `content`, how many are not usage-only
    (None: count them)."""

    sse: bytes | None = None
    content: int | None = None


class NormalizedResponse:
    """A non-streaming answer in the standard shape plus the provider's usage numbers."""

    __slots__ = ("body", "raw", "usage")

    def __init__(self, body: dict[str, Any] | None, usage: Usage, raw: bytes | None = None):
        self.body = body
        self.usage = usage
        self.raw = raw

    def json(self) -> dict[str, Any]:
        if self.body is None:
            self.body = json.loads(self.raw or b"{}")
        return self.body


class Normalizer:
    """Turns one upstream answer into the standard shape. One instance per upstream attempt.

    Non-streaming: `parse(body)` once. Streaming: `feed(bytes)` for every piece read from the upstream and
    `finish()` at the end; both return the standard chunks ready so far. `usage` holds the provider's own
    usage numbers once it reported them. Raise `HubError` for an error the upstream reported inside a 200.
    When that error arrives in the same piece as chunks before it, return those chunks and set
    `pending_error` instead: the gateway delivers them first, then raises it.
    """

    pending_error: HubError | None = None

    def __init__(self) -> None:
        self.usage = Usage()
        self.saw_usage = False

    def parse(self, body: bytes) -> NormalizedResponse:
        raise NotImplementedError

    def feed(self, data: bytes) -> list[Chunk]:
        raise NotImplementedError

    def finish(self) -> list[Chunk]:
        return []


class Provider:
    """Base class of every provider adapter. Subclasses fill in the class attributes and `_build_*`."""

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset({"chat"})
    credential_schema: ClassVar[dict[str, Any]] = API_KEY_SCHEMA
    #: credential field -> environment variable used when no credential is stored (comma-separated list ok)
    env_credentials: ClassVar[dict[str, str]] = {}
    env_base_url: ClassVar[str | None] = None
    test_model: ClassVar[str] = ""
    #: models listed when the upstream cannot be asked
    known_models: ClassVar[dict[str, tuple[str, ...]]] = {}

    def supports(self, kind: str) -> bool:
        return kind in self.capabilities

    def build_request(
        self, kind: str, payload: dict[str, Any], route: Route, stream: bool
    ) -> UpstreamRequest:
        """Build the upstream request for a standard-shaped payload. Raises `HubError` 400 if unsupported."""
        if not self.supports(kind):
            raise HubError(400, "unsupported_operation", f"Provider {self.name} does not support {kind}")
        builder = getattr(self, f"_build_{kind}", None)
        if builder is None:
            raise HubError(400, "unsupported_operation", f"Provider {self.name} does not support {kind}")
        if kind == "image" and is_edit(payload) and not self.supports(IMAGE_EDIT):
            # a builder that does not know input images would draw a new picture instead of editing
            raise HubError(
                400, "unsupported_operation", f"Provider {self.name} does not support image editing"
            )
        return builder(payload, route, stream)

    def apply_credential(self, upstream: UpstreamRequest, credential: Credential | None) -> None:
        """Put the credential into the request. The default is a Bearer token from ``api_key``."""
        if credential is not None and credential.api_key:
            upstream.headers["Authorization"] = f"Bearer {credential.api_key}"

    def normalizer(self, kind: str, stream: bool, route: Route) -> Normalizer:
        raise NotImplementedError

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        """Turn an upstream error answer into the `HubError` the client sees."""
        message = _upstream_message(body) or f"HTTP {status}"
        label = self.display_name or self.name
        if status == 429:
            out = {"Retry-After": headers["Retry-After"]} if "Retry-After" in headers else {}
            return HubError(429, "rate_limited", f"{label} rate limit: {message}", headers=out)
        if status in (401, 403):
            return upstream_auth_failed(label, message, status)
        if status == 404:
            return HubError(404, "model_not_found", f"{label}: {message}")
        if status == 413:
            return HubError(413, "request_too_large", f"{label}: {message}")
        if 400 <= status < 500:
            return HubError(400, "upstream_bad_request", f"{label}: {message}")
        return HubError(
            502,
            "upstream_error",
            f"{label} service is temporarily unavailable ({status}): {message}",
            type="upstream_error",
            extra={"upstream_status": status},
        )

    def models_request(self, route: Route) -> UpstreamRequest | None:
        """The request that lists the upstream's models, or None when the vendor has no such call."""
        return None

    def parse_models(self, body: bytes) -> list[str]:
        return []

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.display_name or self.name,
            "defaultBaseUrl": self.default_base_url,
            "capabilities": sorted(self.capabilities),
            "credentialSchema": self.credential_schema,
            "envCredentials": self.env_credentials,
            "envBaseUrl": self.env_base_url,
            "testModel": self.test_model,
        }


def _upstream_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:300].decode(errors="replace").strip()
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("msg") or err)[:1000]
        return str(err)[:1000]
    return str(data)[:1000]
