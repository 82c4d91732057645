"""In-memory view of the configuration the request path needs: keys, providers, credentials, plugin state.

Reading the database on every request would cost more than the rest of the pipeline, so the hub keeps this
snapshot and reloads it when the configuration generation changes. Changes made through this instance apply
at once; the CLI touches a marker file in the data dir (checked with one `stat` per request); other instances
sharing the database are noticed by polling the generation row.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from cachetools import LRUCache
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from hub_core.config import Settings
from hub_core.db import models as m
from hub_core.errors import HubError
from hub_core.infra import access_keys
from hub_core.infra.crypto import Keyring, SecretError
from hub_core.infra.files import open_private, private_dir
from hub_core.infra.schemas import unseal
from hub_core.types import Caller, Credential

log = structlog.get_logger("hub_core.runtime.state")

GENERATION_KEY = "generation"


@dataclass
class WeightedCredential:
    credential: Credential
    weight: int
    current: int = 0


@dataclass
class ProviderConfig:
    """A provider as configured in the database (or implied by env vars), with its usable credentials."""

    name: str
    id: int | None
    display_name: str
    base_url: str | None
    region: str | None
    enabled: bool
    config: dict[str, Any]
    credentials: list[WeightedCredential] = field(default_factory=list)
    #: the record's kind: ``plugin`` or ``openai_compatible`` (`hub_core.db.models.Provider.kind`)
    kind: str = "plugin"
    #: how many credentials the record stores, switched off ones included
    stored_credentials: int = 0

    def next_credential(self) -> Credential | None:
        """Smooth weighted round-robin (nginx) over the active credentials."""
        creds = self.credentials
        if not creds:
            return None
        if len(creds) == 1:
            return creds[0].credential
        total = 0
        best: WeightedCredential | None = None
        for wc in creds:
            wc.current += wc.weight
            total += wc.weight
            if best is None or wc.current > best.current:
                best = wc
        assert best is not None
        best.current -= total
        return best.credential


@dataclass
class CachedKey:
    caller: Caller | None
    error: str | None
    expires_at: float | None
    cached_until: float


class RuntimeState:
    def __init__(self, settings: Settings, keyring: Keyring) -> None:
        self.settings = settings
        self.keyring = keyring
        self.providers: dict[str, ProviderConfig] = {}
        self.disabled_plugins: set[str] = set()
        self.plugin_config: dict[str, dict[str, Any]] = {}
        self.generation: str | None = None
        # Keys that authenticated, least recently used evicted first. Only a key the database knows can get in
        # here, so a flood of random tokens cannot push out the keys that keep working through an outage.
        self._keys: LRUCache[str, CachedKey] = LRUCache(maxsize=settings.auth_cache_size)
        # Unknown, revoked and disabled keys: answered again without a lookup while fresh; a separate bound so
        # that refusals, however many, never evict a working key.
        self._refused: LRUCache[str, CachedKey] = LRUCache(maxsize=settings.auth_cache_size)
        self._failures = AuthFailureThrottle(settings.auth_failure_limit)
        # after a lookup fails (database down or hung), keys are answered from memory for a moment instead of
        # every request waiting out the database timeout on its own
        self._db_down_until = 0.0
        self._db_checked_at = -1.0
        self._db_probe: asyncio.Task[bool] | None = None
        self._db_ok = False  # the last probe's answer
        self._marker_mtime: int | None = None
        self._marker_text: str | None = None
        self._marker = os.fspath(settings.state_marker)  # built once: checked on every request
        self._reload_lock = asyncio.Lock()
        self._listeners: list[Any] = []

    def on_reload(self, callback: Any) -> None:
        self._listeners.append(callback)

    # --- loading ----------------------------------------------------------------------------------------

    async def reload(self) -> None:
        async with self._reload_lock:
            self.keyring.refresh()  # a rotation by the CLI rewrote the key file before bumping the generation
            marker_mtime, marker_text = _mtime(self._marker), _read(self._marker)
            # read everything before changing anything: a database error half-way leaves the old snapshot
            # whole, and the marker unseen, so the next request tries again
            generation = await current_generation()
            providers = await self._load_providers()
            disabled = {p.name for p in await m.PluginState.filter(enabled=False)}
            plugin_config = await _load_plugin_config(self.keyring)
            self.generation, self._marker_mtime, self._marker_text = generation, marker_mtime, marker_text
            self.providers, self.disabled_plugins = providers, disabled
            self.plugin_config = plugin_config
            self._keys.clear()
            self._refused.clear()
            for callback in self._listeners:
                callback(self)

    async def _load_providers(self) -> dict[str, ProviderConfig]:
        out: dict[str, ProviderConfig] = {}
        for row in await m.Provider.all().prefetch_related("credentials"):
            cfg = ProviderConfig(
                row.name,
                row.id,
                row.display_name,
                row.base_url,
                row.region,
                row.enabled,
                row.config or {},
                kind=row.kind,
                stored_credentials=len(row.credentials),
            )
            for cred in row.credentials:
                if not cred.active:
                    continue
                try:
                    values = _decode_values(self.keyring.decrypt(cred.ciphertext))
                except SecretError as exc:
                    log.error(
                        "credential cannot be decrypted",
                        provider=row.name,
                        credential=cred.id,
                        error=str(exc),
                    )
                    continue
                cfg.credentials.append(
                    WeightedCredential(Credential(cred.id, cred.name, values), max(1, cred.weight))
                )
            out[row.name] = cfg
        return out

    async def check_for_changes(self) -> None:
        """Per request: one `stat` of the marker file the CLI touches.

        File times come from a coarse clock, so two changes within one tick can leave the mtime unchanged;
        while the marker is that fresh, its content (a new generation id per change) decides instead.
        """
        mtime = _mtime(self._marker)
        if mtime != self._marker_mtime or (
            mtime is not None
            and time.time_ns() - mtime < _FRESH_NS
            and _read(self._marker) != self._marker_text
        ):
            try:
                await self.reload()
            except Exception as exc:  # the database is down: keep serving the last snapshot, retry next time
                log.warning("configuration reload failed", error=f"{type(exc).__name__}: {exc}")

    async def poll(self) -> None:
        """Periodic: notice changes made by other instances sharing the database."""
        if await current_generation() != self.generation:
            await self.reload()

    # --- access keys --------------------------------------------------------------------------------------

    async def authenticate(self, token: str, client: str | None = None) -> Caller:
        """The caller a key stands for. `client` (the peer address) is throttled when its keys keep failing:
        past the limit, keys this hub has not recently confirmed get 429 without a database lookup."""
        from hub_core.errors import unauthorized

        if not access_keys.looks_like_key(token):  # not one of ours: no database lookup, even when it is down
            raise unauthorized()
        now = time.monotonic()
        key_hash = access_keys.hash_key(token)
        cached = self._keys.get(key_hash) or self._refused.get(key_hash)
        if cached is None or cached.cached_until < now:
            if client is not None and key_hash not in self._keys:  # a key confirmed before is never throttled
                self._failures.check(client)
            if now < self._db_down_until:
                return self._answer(_stale_or_unavailable(cached, None))
            try:
                fresh = await self._load_key(key_hash, now)
            except Exception as exc:
                self._db_down_until = time.monotonic() + DB_RETRY_INTERVAL
                cached = _stale_or_unavailable(cached, exc)
            else:
                cached = fresh
                self._remember(key_hash, fresh)
                if fresh.caller is None and client is not None:
                    self._failures.record(client)
        return self._answer(cached)

    @staticmethod
    def _answer(cached: CachedKey) -> Caller:
        from hub_core.errors import unauthorized

        if cached.caller is None:
            raise unauthorized(cached.error or "Unauthorized: invalid or missing access key")
        if cached.expires_at is not None and cached.expires_at < time.time():
            raise unauthorized("Unauthorized: access key expired")
        return cached.caller

    async def database_ok(self) -> bool:
        """Whether the database answers a query, asked at most once a second while it does (health probes
        must not add load to a struggling database; while it does not, the query fails without reaching
        it, `hub_core.db.postgres`, and is asked again sooner so that readiness comes back promptly) and
        waited for at most a second (a health probe must not hang with it): a database that takes longer is
        reported unavailable while the query runs on."""
        probe = self._db_probe
        interval = 1.0 if self._db_ok else DB_RETRY_INTERVAL
        if probe is None and time.monotonic() - self._db_checked_at >= interval:
            probe = self._db_probe = asyncio.create_task(self._probe_database(), name="database-probe")
            probe.add_done_callback(self._probe_done)
        if probe is None:
            return self._db_ok
        try:
            await asyncio.wait_for(asyncio.shield(probe), 1.0)
        except TimeoutError:
            return False
        return probe.result()

    def _probe_done(self, probe: asyncio.Task[bool]) -> None:
        # keep the answer, not the task: a finished task still holds the context it was started in, which
        # holds the request that asked (its connection included) until the next probe
        self._db_probe = None
        self._db_ok = not probe.cancelled() and probe.exception() is None and probe.result()

    async def _probe_database(self) -> bool:
        try:
            await current_generation()
        except Exception as exc:
            self._db_down_until = time.monotonic() + DB_RETRY_INTERVAL
            log.warning("database check failed", error=f"{type(exc).__name__}: {exc}")
            return False
        finally:
            self._db_checked_at = time.monotonic()
        return True

    def _remember(self, key_hash: str, answer: CachedKey) -> None:
        if answer.caller is not None:
            self._keys[key_hash] = answer
            self._refused.pop(key_hash, None)
        else:
            self._refused[key_hash] = answer
            self._keys.pop(key_hash, None)  # revoked or disabled since: the working answer is void

    async def _load_key(self, key_hash: str, now: float) -> CachedKey:
        ttl = self.settings.auth_cache_ttl
        row = await m.AccessKey.filter(key_hash=key_hash).select_related("user").first()
        if row is None:
            return CachedKey(None, None, None, now + min(ttl, 5.0))
        if row.revoked_at is not None:
            return CachedKey(None, "Unauthorized: access key revoked", None, now + ttl)
        if row.user.disabled:
            return CachedKey(None, "Unauthorized: user disabled", None, now + ttl)
        role = _effective_role(row.role, row.user.role)
        caller = Caller(row.user.id, row.user.did, row.user.name, role, row.id, row.name)  # type: ignore[arg-type]
        expires = row.expires_at.timestamp() if row.expires_at else None
        return CachedKey(caller, None, expires, now + ttl)


class AuthFailureThrottle:
    """Failed key lookups per client in a moving window (`limits`, in memory): a client spraying random keys
    costs the database at most the limit per window, then gets 429 with Retry-After until the window moves."""

    def __init__(self, limit: str) -> None:
        self.limit: RateLimitItem = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str) -> None:
        if self._limiter.test(self.limit, client):
            return
        reset_at, _ = self._limiter.get_window_stats(self.limit, client)
        raise too_many_failures(max(1, int(reset_at - time.time()) + 1))

    def record(self, client: str) -> None:
        self._limiter.hit(self.limit, client)


def too_many_failures(retry_after: int) -> HubError:
    return HubError(
        429,
        "too_many_failed_keys",
        f"Too many requests with invalid access keys from this address; try again in {retry_after} seconds",
        headers={"Retry-After": str(retry_after)},
    )


PLUGIN_CONFIG_PREFIX = "plugin_config:"


async def _load_plugin_config(keyring: Keyring) -> dict[str, dict[str, Any]]:
    """Plugin settings stored by the admin API (``hub_state`` rows ``plugin_config:<name>``, JSON objects),
    secret fields decrypted."""
    import json

    out: dict[str, dict[str, Any]] = {}
    for row in await m.HubState.filter(key__startswith=PLUGIN_CONFIG_PREFIX):
        try:
            data = json.loads(row.value)
        except ValueError:
            continue
        if isinstance(data, dict):
            name = row.key.removeprefix(PLUGIN_CONFIG_PREFIX)
            out[name], unreadable = unseal(keyring, data)
            if unreadable:
                log.error("plugin setting cannot be decrypted", plugin=name, fields=unreadable)
    return out


#: seconds after a failed lookup during which keys are answered from memory without asking the database again
#: (a hung PostgreSQL fails every call at once meanwhile anyway, `hub_core.db.postgres`: this pause is what a
#: new key waits for once the database is back)
DB_RETRY_INTERVAL = 0.25


def _stale_or_unavailable(cached: CachedKey | None, exc: Exception | None) -> CachedKey:
    """The database could not be asked (it is down): a key known before keeps working on its last known
    answer, so an outage never locks out the clients already using the hub; an unknown key gets a 503
    (retry later), never a 401 that would make a client think its key is wrong."""
    from hub_core.db.errors import unavailable

    if cached is not None:
        if exc is not None:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("access key lookup failed; using the cached answer", error=error)
        return cached
    if exc is not None:
        log.warning("access key lookup failed", error=f"{type(exc).__name__}: {exc}")
    raise unavailable() from exc


def _effective_role(key_role: str, user_role: str) -> str:
    from hub_core.types import ROLE_RANK

    return key_role if ROLE_RANK.get(key_role, 0) <= ROLE_RANK.get(user_role, 0) else user_role


def _decode_values(plaintext: str) -> dict[str, str]:
    import json

    data = json.loads(plaintext)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {"api_key": str(data)}


_FRESH_NS = 100_000_000  # 100 ms: far above any file-time granularity


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _mtime(path: str | os.PathLike[str]) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


async def current_generation() -> str | None:
    row = await m.HubState.get_or_none(key=GENERATION_KEY)
    return row.value if row else None


async def bump_generation(settings: Settings) -> None:
    """Record that the configuration changed, for this and every other hub instance."""
    import uuid

    value = uuid.uuid4().hex
    updated = await m.HubState.filter(key=GENERATION_KEY).update(value=value)
    if not updated:
        await m.HubState.get_or_create(key=GENERATION_KEY, defaults={"value": value})
    private_dir(settings.state_marker.parent)
    with open_private(settings.state_marker) as fh:
        fh.write(f"{value} {datetime.now(UTC).isoformat()}\n")
