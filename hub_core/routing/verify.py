"""Live credential checks: one tiny real call with the provider's cheap test model (a "Hello, world!" chat, a
cat picture for image-only providers, ``["test"]`` for embedding-only ones).

Used before a credential is saved (admin API, CLI), to test one without saving it, and by the background
re-check that brings a disabled credential back. The verdict separates what the vendor said about the key
(``invalid``) from answers that say nothing about it (``unknown``: 5xx, timeouts, a model it does not know).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

from hub_core.errors import HubError
from hub_core.routing.health import Outcome, classify, tag_upstream_error
from hub_core.types import Credential, Route, UpstreamRequest

if TYPE_CHECKING:
    from hub_core.db import models as m
    from hub_core.infra.crypto import Keyring
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.infra.upstream import UpstreamClient
    from hub_core.providers.base import Provider

Verdict = Literal["ok", "accepted", "invalid", "unknown"]
CHECK_TIMEOUT = 30.0
#: the kind of call a check makes, in order of preference (video is too slow and costly to test with)
CHECK_KINDS = ("chat", "image", "embedding")


@dataclass(slots=True)
class CheckResult:
    """``ok``: the call worked; ``accepted``: the vendor took the key but not the tiny request (a 4xx such as
    a rate limit or an unsupported parameter); ``invalid``: the vendor refused the key; ``unknown``: no
    answer about the key (unreachable, 5xx, the test model is unknown)."""

    verdict: Verdict
    detail: str | None
    provider: str
    model: str
    kind: str
    response_ms: float = 0.0
    error_code: str | None = None

    @property
    def valid(self) -> bool:
        return self.verdict in ("ok", "accepted")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"success": self.valid, "model": self.model, "responseTime": self.response_ms}
        if self.detail:
            out["detail"] = self.detail
        return out


def check_kind(provider: Provider) -> str | None:
    return next((k for k in CHECK_KINDS if provider.supports(k)), None)


def check_payload(kind: str, model: str) -> dict[str, Any]:
    if kind == "image":
        return {"model": model, "prompt": "draw a picture of a cat", "n": 1}
    if kind == "embedding":
        return {"model": model, "input": ["test"]}
    return {"model": model, "messages": [{"role": "user", "content": "Hello, world!"}]}


async def check_credential(
    upstream: UpstreamClient,
    name: str,
    provider: Provider,
    values: dict[str, str],
    *,
    base_url: str | None = None,
    config: dict[str, Any] | None = None,
    provider_id: int | None = None,
    region: str | None = None,
    test_model: str | None = None,
    seconds: float = CHECK_TIMEOUT,
) -> CheckResult:
    """Make the test call with `values` and say what it proved about them."""
    found_kind = check_kind(provider)
    model = test_model or provider.test_model or ""
    route = Route(
        provider,
        name,
        model,
        base_url or provider.default_base_url,
        Credential(None, "check", values),
        provider_id,
        dict(config or {}),
        region,
    )
    # without a test model, an upstream that lists its models (an OpenAI-compatible endpoint an admin added
    # without a model list) is checked with that free call instead
    by_listing = not model and provider.models_request(route) is not None
    kind = found_kind or "chat"
    if not by_listing and (found_kind is None or not model):
        detail = f"{provider.display_name or name} has no test model to check credentials with"
        return CheckResult("unknown", detail, name, model, kind)
    started = time.perf_counter()
    try:
        sending = _list(upstream, route) if by_listing else _send(upstream, route, kind, model)
        failure = await asyncio.wait_for(sending, seconds)
    except HubError as err:
        failure = err
    except TimeoutError:
        label = provider.display_name or name
        failure = HubError(504, "upstream_timeout", f"{label} did not answer in time", type="upstream_error")
    if failure is None:
        return CheckResult("ok", None, name, model, kind, (time.perf_counter() - started) * 1000)
    return _result(failure, route, kind, started)


async def _send(upstream: UpstreamClient, route: Route, kind: str, model: str) -> HubError | None:
    """The test call; None when it worked, else the error the vendor's answer maps to."""
    provider = route.provider
    req = provider.build_request(kind, check_payload(kind, model), route, False)
    provider.apply_credential(req, route.credential)
    return await _answer(upstream, route, req)


async def _list(upstream: UpstreamClient, route: Route) -> HubError | None:
    """The model-list call as the test call."""
    req = route.provider.models_request(route)
    assert req is not None
    route.provider.apply_credential(req, route.credential)
    return await _answer(upstream, route, req)


async def list_models(upstream: UpstreamClient, route: Route, seconds: float = CHECK_TIMEOUT) -> list[str]:
    """The upstream's model list (``models_request``) with the route's credential, asked now; raises the
    `HubError` its answer maps to, or 504 when it did not answer in time."""
    provider = route.provider
    req = provider.models_request(route)
    label = provider.display_name or route.provider_name
    if req is None:
        raise HubError(400, "unsupported_operation", f"{label} has no model list to ask")
    provider.apply_credential(req, route.credential)
    try:
        async with asyncio.timeout(seconds):
            resp = await upstream.send(req, label)
            try:
                body = await resp.read()
            finally:
                resp.release()
    except TimeoutError:
        raise HubError(
            504, "upstream_timeout", f"{label} did not answer in time", type="upstream_error"
        ) from None
    except aiohttp.ClientError as exc:
        raise HubError(
            502,
            "upstream_unreachable",
            f"{label} broke off its answer: {type(exc).__name__}",
            type="upstream_error",
        ) from exc
    if resp.status >= 400:
        raise tag_upstream_error(provider.map_error(resp.status, body, dict(resp.headers)), resp)
    return provider.parse_models(body)


async def _answer(upstream: UpstreamClient, route: Route, req: UpstreamRequest) -> HubError | None:
    provider = route.provider
    resp = await upstream.send(req, provider.display_name or route.provider_name)
    try:  # only read for the error's message: the start of it is enough
        body = await resp.read_body(64 << 10, truncate=True)
    except (aiohttp.ClientError, HubError):
        body = b""
    if resp.status < 400:
        return None
    return tag_upstream_error(provider.map_error(resp.status, body, dict(resp.headers)), resp)


def _result(err: HubError, route: Route, kind: str, started: float) -> CheckResult:
    elapsed = (time.perf_counter() - started) * 1000
    outcome = classify(err)
    if outcome is Outcome.CREDENTIAL:
        verdict: Verdict = "invalid"
    elif outcome is Outcome.RATE_LIMITED or (outcome is None and err.status < 500):
        verdict = "accepted"
    else:
        verdict = "unknown"
    detail = _redacted(err.full_message, route)
    return CheckResult(verdict, detail, route.provider_name, route.model, kind, elapsed, err.code)


def _redacted(message: str, route: Route) -> str:
    from hub_core.infra.crypto import mask

    for value in route.credential.values.values() if route.credential else ():
        if len(value) >= 8 and value in message:
            message = message.replace(value, mask(value))
    return message


def raise_unless_valid(result: CheckResult) -> None:
    """Refuse a credential the check did not prove usable, with the vendor's words as the detail."""
    if result.valid:
        return
    if result.verdict == "invalid":
        raise HubError(
            400, "invalid_credentials", "Invalid credentials", extra={"detail": result.detail or ""}
        )
    detail = (
        f"{result.detail or 'no answer'} (test model {result.model}). Save it without the check "
        "(verify=false, `--no-verify`) or check with another model (testModel, `--test-model`)."
    )
    raise HubError(400, "credential_unverified", "Could not verify the credentials", extra={"detail": detail})


async def check_stored(
    upstream: UpstreamClient,
    host: PluginHost,
    keyring: Keyring,
    row: m.Credential,
    provider_row: m.Provider,
    test_model: str | None = None,
) -> CheckResult:
    """Check a stored credential (decrypted here, never returned)."""
    from hub_core.infra.crypto import SecretError
    from hub_core.runtime.state import _decode_values

    name = provider_row.name
    provider = host.provider(name)
    if provider is None:
        return CheckResult("unknown", f"Provider plugin for {name!r} is not enabled", name, "", "chat")
    try:
        values = _decode_values(keyring.decrypt(row.ciphertext))
    except SecretError as exc:
        return CheckResult("unknown", f"Credential cannot be decrypted: {exc}", name, "", "chat")
    return await check_credential(
        upstream,
        name,
        provider,
        values,
        base_url=provider_row.base_url,
        config=provider_row.config or {},
        provider_id=provider_row.id,
        region=provider_row.region,
        test_model=test_model,
    )


class RateLimiter:
    """At most `limit` events per `window` seconds per key (credential tests: 5 per 10 minutes per user)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[object, list[float]] = {}

    def hit(self, key: object) -> None:
        """Count one event, or raise 429 with Retry-After when the key is over its limit."""
        now = time.monotonic()
        events = [t for t in self._events.get(key, ()) if t > now - self.window]
        if len(events) >= self.limit:
            wait = max(1, int(events[0] + self.window - now) + 1)
            raise HubError(
                429,
                "rate_limited",
                f"Rate limit exceeded: at most {self.limit} credential tests per "
                f"{int(self.window // 60)} minutes; try again in {wait} s",
                headers={"Retry-After": str(wait)},
                extra={"detail": f"retryAfter={wait}"},
            )
        events.append(now)
        if len(self._events) > 10_000:
            self._events.clear()
        self._events[key] = events
