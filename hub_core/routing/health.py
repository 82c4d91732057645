"""What upstream answers say about providers and credentials, and what the hub does about it.

- a 429 puts the provider in a cool-down (Retry-After, else ``provider_cooldown`` seconds) and drops the
  credential's weight to 10 for twice that; three failures in a row cool the provider down for twice that;
- a refused credential (401, 403 other than content policy or region blocks, 402 of the hub's own account)
  is disabled in the database with the vendor's message and re-checked in the background with a live test
  call, after ``credential_check_delay + 2**n`` seconds (at most ``credential_check_max_delay``), until it
  works again;
- every outcome updates the model's availability (`hub_core.routing.status`).

All of it is per hub instance and in memory, except the credential's state and the model status, which
live in the database (so other instances and restarts see them).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import structlog

from hub_core.db import models as m
from hub_core.errors import HubError
from hub_core.routing.status import ModelStatusBook

if TYPE_CHECKING:
    import aiohttp

    from hub_core.config import Settings
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.infra.upstream import UpstreamClient
    from hub_core.routing.verify import CheckResult
    from hub_core.runtime.state import RuntimeState
    from hub_core.types import Route

log = structlog.get_logger("hub_core.routing.health")

LOW_WEIGHT = 10
FAILURES_BEFORE_COOLDOWN = 3
MAX_COOLDOWN = 3600.0
STATUS_FLUSH_SECONDS = 1.0
STATUS_RELOAD_SECONDS = 15.0
CREDENTIAL_TESTS, CREDENTIAL_TESTS_WINDOW = 5, 600.0
#: 403 messages that blame the request, not the key (the caller's problem: no failover, no disable)
CONTENT_POLICY = ("content policy", "content_policy", "safety", "moderation", "flagged", "harmful")
#: 403 messages that blame where or when the hub calls from, not the key (try elsewhere, keep the key)
NOT_THE_KEY = ("region", "country", "territor", "location", "temporarily", "unsupported_country")


class Outcome(StrEnum):
    """What an upstream failure says about the provider (None from `classify`: nothing, the caller's)."""

    RATE_LIMITED = "rate_limited"
    CREDENTIAL = "credential"  # the vendor refused the hub's credential
    UNAVAILABLE = "unavailable"  # 5xx, timeouts, unreachable, malformed answers, region blocks
    MODEL_NOT_FOUND = "model_not_found"


def tag_upstream_error(err: HubError, resp: aiohttp.ClientResponse) -> HubError:
    """Mark an error mapped from an upstream answer with that answer's status and Retry-After, which failover
    and health read whatever shape the provider plugin gave the error."""
    err.extra.setdefault("upstream_status", resp.status)
    retry = resp.headers.get("Retry-After")
    if retry:
        err.extra.setdefault("retry_after", retry)
    return err


def upstream_status(err: HubError) -> int | None:
    status = err.extra.get("upstream_status")
    return int(status) if isinstance(status, int) else None


def is_upstream(err: HubError) -> bool:
    """Whether the error came from the provider's answer (or from failing to get one)."""
    return upstream_status(err) is not None or err.type == "upstream_error"


def classify(err: HubError) -> Outcome | None:
    """The upstream failure `err` stands for, or None when the provider is not to blame (the request was
    invalid or refused by content policy, or the error is the hub's own: routing, billing, a plugin)."""
    status = upstream_status(err)
    if not is_upstream(err):
        return None
    message = err.full_message.lower()
    if err.code in ("upstream_auth_failed", "upstream_payment_required") or status in (401, 402, 403):
        if status == 403 and any(word in message for word in CONTENT_POLICY):
            return None
        if status == 403 and any(word in message for word in NOT_THE_KEY):
            return Outcome.UNAVAILABLE
        return Outcome.CREDENTIAL
    if status == 429:
        return Outcome.RATE_LIMITED
    if status == 404:
        return Outcome.MODEL_NOT_FOUND
    if status is not None and 400 <= status < 500 and status not in (408, 409, 425):
        return None  # the vendor found the request itself wrong: another vendor would too
    return Outcome.UNAVAILABLE


def retry_after(err: HubError) -> float | None:
    """Seconds from the upstream's Retry-After (seconds or an HTTP date), if it sent one."""
    raw = err.extra.get("retry_after") or err.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(str(raw)).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ProviderHealth:
    def __init__(
        self, settings: Settings, host: PluginHost, state: RuntimeState, upstream: UpstreamClient
    ) -> None:
        self.settings = settings
        self.host = host
        self.state = state
        self.upstream = upstream
        self.status = ModelStatusBook()
        self._cooldown_until: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._low_weight_until: dict[int, float] = {}
        self._normal_weight: dict[int, int] = {}
        self._disabling: set[int] = set()
        self._rechecks: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flusher: asyncio.Task[None] | None = None
        #: live credential tests through the admin API (each one is a billed call at the vendor)
        from hub_core.routing.verify import RateLimiter  # verify builds on this module

        self.credential_tests = RateLimiter(CREDENTIAL_TESTS, CREDENTIAL_TESTS_WINDOW)
        state.on_reload(lambda _state: self._apply_weights())

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the stored model status and resume re-checks of credentials disabled before the start."""
        try:
            await self.status.load()
            failing = await m.Credential.filter(active=False, error__isnull=False).select_related("provider")
        except Exception as exc:
            log.warning("health state not loaded", error=str(exc))
            failing = []
        for row in failing:
            self.schedule_recheck(row.provider.name, row.id)
        self._flusher = asyncio.create_task(self._flush_loop(), name="model-status-writer")

    async def stop(self) -> None:
        tasks = [*self._rechecks.values(), *self._tasks]
        if self._flusher is not None:
            tasks.append(self._flusher)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._rechecks.clear()
        with contextlib.suppress(Exception):
            await self.status.flush()

    async def _flush_loop(self) -> None:
        last_load = time.monotonic()
        while True:
            await asyncio.sleep(STATUS_FLUSH_SECONDS)
            try:
                await self.status.flush()
                if time.monotonic() - last_load > STATUS_RELOAD_SECONDS:
                    last_load = time.monotonic()
                    await self.status.load()
            except Exception as exc:
                log.warning("model status sync failed", error=f"{type(exc).__name__}: {exc}")

    # --- rotation -----------------------------------------------------------------------------------------

    def cooldown_left(self, provider: str) -> float:
        until = self._cooldown_until.get(provider)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._cooldown_until[provider]
            return 0.0
        return left

    def cool_down(self, provider: str, seconds: float) -> None:
        until = time.monotonic() + min(seconds, MAX_COOLDOWN)
        if until > self._cooldown_until.get(provider, 0.0):
            self._cooldown_until[provider] = until
            log.warning("provider cooling down", cooling_provider=provider, seconds=round(seconds, 1))

    # --- outcomes of calls ----------------------------------------------------------------------------------

    def record_success(self, route: Route, kind: str, elapsed_ms: float) -> None:
        name = route.provider_name
        self._failures.pop(name, None)
        self._cooldown_until.pop(name, None)  # it answered: no reason to keep skipping it
        self._record_status(route, kind, available=True, response_ms=elapsed_ms)

    def record_failure(
        self, route: Route, kind: str, outcome: Outcome, err: HubError, elapsed_ms: float
    ) -> None:
        name = route.provider_name
        cooldown = self.settings.provider_cooldown
        if outcome is not Outcome.MODEL_NOT_FOUND:
            failures = self._failures[name] = self._failures.get(name, 0) + 1
            if failures >= FAILURES_BEFORE_COOLDOWN:
                self.cool_down(name, 2 * cooldown)
        if outcome is Outcome.RATE_LIMITED:
            wait = retry_after(err)
            self.cool_down(name, cooldown if wait is None else wait)
            self._down_weight(route)
        elif outcome is Outcome.CREDENTIAL:
            self._credential_refused(route, err.full_message)
        if outcome is Outcome.MODEL_NOT_FOUND and self.status.get(name, route.model, kind) is None:
            return  # only models seen before get a "not found" entry (made-up names must not fill the table)
        available = None if outcome is Outcome.RATE_LIMITED else False
        self._record_status(
            route,
            kind,
            available=available,
            error_code=err.code,
            error=err.full_message,
            response_ms=elapsed_ms,
        )

    def record_check(self, result: CheckResult) -> None:
        """A live test call (credential check) is news about its model too."""
        if not result.model:
            return
        if result.valid or result.verdict == "invalid":
            self.status.record(
                result.provider,
                result.model,
                result.kind,
                available=result.valid,
                error_code=None if result.verdict == "ok" else result.error_code,
                error=None if result.verdict == "ok" else result.detail,
                response_ms=result.response_ms,
            )

    def _record_status(self, route: Route, kind: str, **fields: Any) -> None:
        if len(route.model) <= 200 and kind in ("chat", "embedding", "image", "video"):
            self.status.record(route.provider_name, route.model, kind, **fields)

    # --- credential weights -------------------------------------------------------------------------------

    def _down_weight(self, route: Route) -> None:
        credential = route.credential
        if credential is None or credential.id is None:
            return
        seconds = 2 * self.settings.provider_cooldown
        self._low_weight_until[credential.id] = time.monotonic() + seconds
        self._apply_weights()
        asyncio.get_running_loop().call_later(seconds + 0.05, self._apply_weights)

    def _apply_weights(self) -> None:
        """Put the weight of each rate-limited credential at `LOW_WEIGHT`, and back when its time is up (also
        on every reload, which rebuilds the credentials from the database)."""
        now = time.monotonic()
        for cfg in self.state.providers.values():
            for wc in cfg.credentials:
                cid = wc.credential.id
                if cid is None:
                    continue
                if self._low_weight_until.get(cid, 0.0) > now:
                    if wc.weight != LOW_WEIGHT:
                        self._normal_weight[cid] = wc.weight
                        wc.weight = LOW_WEIGHT
                elif cid in self._normal_weight:
                    if wc.weight == LOW_WEIGHT:
                        wc.weight = self._normal_weight[cid]
                    del self._normal_weight[cid]
        for cid, until in list(self._low_weight_until.items()):
            if until <= now:
                del self._low_weight_until[cid]

    def weight_of(self, credential_id: int) -> int | None:
        """The weight the rotation uses right now (None when the credential is not in use)."""
        for cfg in self.state.providers.values():
            for wc in cfg.credentials:
                if wc.credential.id == credential_id:
                    return wc.weight
        return None

    # --- disabled credentials -----------------------------------------------------------------------------

    def _credential_refused(self, route: Route, message: str) -> None:
        credential = route.credential
        if credential is None or credential.id is None or credential.id in self._disabling:
            return  # env keys are not stored, so they cannot be switched off; failover still skips them
        cid = credential.id
        self._disabling.add(cid)
        cfg = self.state.providers.get(route.provider_name)
        if cfg is not None:  # stop using it now, before the database write lands
            cfg.credentials = [wc for wc in cfg.credentials if wc.credential.id != cid]
        self._spawn(self._disable(route.provider_name, cid, message))

    async def _disable(self, provider: str, cid: int, message: str) -> None:
        from hub_core.runtime.state import bump_generation

        try:
            changed = await m.Credential.filter(id=cid, active=True).update(
                active=False, error=message[:2000]
            )
            if changed:
                await bump_generation(self.settings)
                log.warning("credential disabled", disabled_provider=provider, credential=cid, error=message)
        except Exception as exc:
            log.error("could not disable credential", credential=cid, error=str(exc))
        finally:
            self._disabling.discard(cid)
        self.schedule_recheck(provider, cid)

    def recheck_delay(self, attempt: int) -> float:
        """``credential_check_delay + 2**attempt`` seconds, at most ``credential_check_max_delay``."""
        return min(
            self.settings.credential_check_delay + 2.0 ** min(attempt, 30),
            self.settings.credential_check_max_delay,
        )

    def schedule_recheck(self, provider: str, cid: int) -> None:
        task = self._rechecks.get(cid)
        if task is not None and not task.done():
            return
        task = asyncio.create_task(self._recheck(provider, cid), name=f"credential-recheck-{cid}")
        self._rechecks[cid] = task
        task.add_done_callback(
            lambda t, c=cid: self._rechecks.pop(c, None) if self._rechecks.get(c) is t else None
        )

    def rechecking(self) -> list[int]:
        return sorted(cid for cid, task in self._rechecks.items() if not task.done())

    async def _recheck(self, provider: str, cid: int) -> None:
        from hub_core.routing.verify import check_stored

        attempt = 0
        while True:
            await asyncio.sleep(self.recheck_delay(attempt))
            attempt += 1
            try:
                row = await m.Credential.filter(id=cid).select_related("provider").first()
                if row is None or row.active:
                    return  # deleted, or switched back on by an admin
                result = await check_stored(self.upstream, self.host, self.state.keyring, row, row.provider)
                self.record_check(result)
                if result.valid:
                    await self.reactivate(cid)
                    return
                if result.verdict == "invalid" and result.detail and result.detail != row.error:
                    await m.Credential.filter(id=cid).update(error=result.detail[:2000])
                log.info("credential still failing", credential=cid, verdict=result.verdict, attempt=attempt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("credential re-check failed", credential=cid, error=str(exc))

    async def reactivate(self, cid: int) -> None:
        """Switch a credential back on (it passed a check), for this and every other instance."""
        from hub_core.runtime.state import bump_generation

        row = await m.Credential.filter(id=cid).select_related("provider").first()
        if row is None:
            return
        await m.Credential.filter(id=cid).update(active=True, error=None)
        self._failures.pop(row.provider.name, None)
        await bump_generation(self.settings)
        await self.state.reload()
        log.info("credential re-enabled", enabled_provider=row.provider.name, credential=cid)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- what the admin API shows ---------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "cooldowns": {
                name: round(until - now, 1)
                for name, until in sorted(self._cooldown_until.items())
                if until > now
            },
            "consecutiveFailures": dict(sorted(self._failures.items())),
            "rechecking": self.rechecking(),
        }
