"""The provider contract.

A provider plugin only translates: it builds the upstream HTTP request from the hub's standard request
(OpenAI Chat Completions shape), puts a credential into it, and turns the answer back into the standard
shape through a `Normalizer`. The core owns HTTP, timeouts, keys, routing and usage.
"""

from __future__ import annotations

import json
from types import NotImplementedType
from typing import Any, ClassVar

from hub_core.errors import HubError, upstream_auth_failed
from hub_core.providers.image_edit import IMAGE_EDIT, is_edit
from hub_core.providers.openai_video import job_of
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
    """Base class of every provider adapter.

    Subclasses fill in the class attributes and the builders of the kinds they serve (`build_chat`,
    `build_embedding`, ...) plus `normalizer`; everything else has a working default. The core calls only
    the methods declared here, never one it finds by name.
    """

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    #: kinds it serves (``chat``, ``embedding``, ``image``, ``video``, ``count_tokens``) and what else it can
    #: do (``image_edit``)
    capabilities: ClassVar[frozenset[str]] = frozenset({"chat"})
    credential_schema: ClassVar[dict[str, Any]] = API_KEY_SCHEMA
    #: credential field -> environment variable used when no credential is stored (comma-separated list ok)
    env_credentials: ClassVar[dict[str, str]] = {}
    env_base_url: ClassVar[str | None] = None
    test_model: ClassVar[str] = ""
    #: models listed when the upstream cannot be asked
    known_models: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: extensions of the standard chat request it reads (``cache_control``, ``thinking``, ``top_k``): the
    #: Anthropic dialect keeps them in the request only when every candidate provider reads them
    standard_extensions: ClassVar[frozenset[str]] = frozenset()

    def supports(self, kind: str) -> bool:
        return kind in self.capabilities

    # --- requests ------------------------------------------------------------------------------------------

    def build_request(
        self, kind: str, payload: dict[str, Any], route: Route, stream: bool
    ) -> UpstreamRequest:
        """Build the upstream request for a standard-shaped payload: refuses what the provider does not
        support with 400, then calls the builder of `kind`. The core calls this, not the builders."""
        if not self.supports(kind):
            raise self.unsupported(kind)
        if kind == "image" and is_edit(payload) and not self.supports(IMAGE_EDIT):
            # a builder that does not know input images would draw a new picture instead of editing
            raise HubError(
                400, "unsupported_operation", f"Provider {self.name} does not support image editing"
            )
        if kind == "chat":
            return self.build_chat(payload, route, stream)
        if kind == "embedding":
            return self.build_embedding(payload, route, stream)
        if kind == "image":
            return self.build_image(payload, route, stream)
        if kind == "video":
            return self.build_video(payload, route, stream)
        if kind == "count_tokens":
            return self.build_count_tokens(payload, route, stream)
        raise self.unsupported(kind)

    def build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        """A chat call from an OpenAI Chat Completions body (`hub_core.providers.ChatRequest` reads it as
        objects). `stream` says whether the client asked for a stream."""
        raise self.unsupported("chat")

    def build_embedding(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        """An embeddings call from an OpenAI ``/embeddings`` body (``input``, ``dimensions``,
        ``encoding_format``)."""
        raise self.unsupported("embedding")

    def build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        """An image call from an OpenAI ``/images/generations`` body; with ``image_edit`` in `capabilities`,
        also an edit (`hub_core.providers.is_edit`: input images under ``payload["input_images"]``)."""
        raise self.unsupported("image")

    def build_video(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        """The call that creates a video job from an OpenAI ``/videos`` body; see `video_poll_request`."""
        raise self.unsupported("video")

    def build_count_tokens(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        """A token count of a chat body (``POST /v1/messages/count_tokens``); without the ``count_tokens``
        capability the hub estimates the count itself."""
        raise self.unsupported("count_tokens")

    def apply_credential(self, upstream: UpstreamRequest, credential: Credential | None) -> None:
        """Put the credential into the request. The default is a Bearer token from ``api_key``."""
        if credential is not None and credential.api_key:
            upstream.headers["Authorization"] = f"Bearer {credential.api_key}"

    # --- answers -------------------------------------------------------------------------------------------

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        """A fresh `Normalizer` for one upstream answer to the request built from `payload` (the same
        standard body the builder got, for what the answer's shape depends on: the embedding encoding ...)."""
        raise self.unsupported(kind)

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        """Turn an upstream error answer into the `HubError` the client sees.

        The default covers what vendors mean by the common statuses: 429 keeps ``Retry-After``; 401/403 is
        the hub's credential refused (502 ``upstream_auth_failed``, the vendor's text kept out of the client's
        answer); 402 the hub's account out of credit (502 ``upstream_payment_required``); 404 an unknown
        model; 408 an upstream timeout (504); 413 too large; other 4xx a bad request (400); 529 an overloaded
        upstream (503 ``upstream_overloaded``); other 5xx 502. Override for vendor-specific bodies and call
        ``super().map_error`` for the rest.
        """
        message = _upstream_message(body) or f"HTTP {status}"
        label = self.display_name or self.name
        retry = _retry_after(headers)
        if status == 429:
            return HubError(429, "rate_limited", f"{label} rate limit: {message}", headers=retry)
        if status in (401, 403):
            return upstream_auth_failed(label, message, status)
        if status == 402:
            return upstream_payment_required(label, body)
        if status == 404:
            return HubError(404, "model_not_found", f"{label}: {message}")
        if status == 408:
            return HubError(504, "upstream_timeout", f"{label} timed out: {message}", type="upstream_error")
        if status == 413:
            return HubError(413, "request_too_large", f"{label}: {message}")
        if 400 <= status < 500:
            return HubError(400, "upstream_bad_request", f"{label}: {message}")
        if status == 529:
            return HubError(
                503,
                "upstream_overloaded",
                f"{label} is overloaded ({status}): {message}",
                type="upstream_error",
                headers=retry,
                extra={"upstream_status": status},
            )
        return HubError(
            502,
            "upstream_error",
            f"{label} service is temporarily unavailable ({status}): {message}",
            type="upstream_error",
            extra={"upstream_status": status},
        )

    # --- models --------------------------------------------------------------------------------------------

    def model_for(self, model: str) -> str | NotImplementedType | None:
        """The upstream id under which this provider serves the bare model name `model` (``gpt-4o``), None
        when it does not serve it, or ``NotImplemented`` (the default) to leave it to the hub: the admin's
        model list, `known_models` and the upstream's own list, then the hub's model-name patterns."""
        return NotImplemented

    def models_request(self, route: Route) -> UpstreamRequest | None:
        """The request that lists the upstream's models, or None when the vendor has no such call."""
        return None

    def parse_models(self, body: bytes) -> list[str]:
        """The model ids in the answer to `models_request`."""
        return []

    # --- video jobs ----------------------------------------------------------------------------------------

    def video_poll_request(self, route: Route, job: dict[str, Any]) -> UpstreamRequest:
        """The request that polls a video job (`job` is the standard ``video`` object: ``id``, ``status``).
        The hub polls until the status is neither ``queued`` nor ``in_progress``."""
        raise HubError(400, "unsupported_operation", f"Provider {self.name} cannot run video jobs")

    def video_content_request(self, route: Route, job: dict[str, Any]) -> UpstreamRequest:
        """The request that downloads a completed job's clip."""
        raise HubError(400, "unsupported_operation", f"Provider {self.name} cannot run video jobs")

    def video_job(self, body: bytes) -> dict[str, Any]:
        """A poll answer as the standard ``video`` job object; the default reads OpenAI's. Override when the
        vendor's video API has another shape (Gemini's long-running operations)."""
        return job_of(body)

    # --- helpers -------------------------------------------------------------------------------------------

    def unsupported(self, kind: str) -> HubError:
        """The 400 for a kind this provider does not serve."""
        return HubError(400, "unsupported_operation", f"Provider {self.name} does not support {kind}")

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


def upstream_payment_required(label: str, body: bytes) -> HubError:
    """The hub's own account at the vendor is out of credit (HTTP 402): not the caller's fault."""
    return HubError(
        502,
        "upstream_payment_required",
        f"{label} account of the hub has no credit left: {_upstream_message(body)}",
        type="upstream_error",
        extra={"upstream_status": 402},
    )


def _retry_after(headers: dict[str, str]) -> dict[str, str]:
    """The upstream's Retry-After, whatever the case of its name, for the client's answer."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            return {"Retry-After": value}
    return {}


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
