"""Settings read once from the environment (prefix AIGNE_HUB_, plus the Blocklet variables).

`Settings.from_env()` builds a fresh object; nothing is read at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = _env(name)
    return float(raw) if raw is not None else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw is not None else default


def _size(raw: str) -> int:
    """Parse `30mb`, `512kb`, `1048576` into bytes."""
    text = raw.strip().lower().replace(" ", "")
    for suffix, factor in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1)):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


class ConfigError(ValueError):
    """A setting in the environment that the hub cannot use; the message names the variable."""


def _admin_key() -> str | None:
    """The operator's first admin key: ``AIGNE_HUB_ADMIN_KEY``, or the contents of the file
    ``AIGNE_HUB_ADMIN_KEY_FILE`` names (a Docker or Kubernetes secret), so unattended starts print nothing."""
    value = _env("AIGNE_HUB_ADMIN_KEY")
    path = _env("AIGNE_HUB_ADMIN_KEY_FILE")
    if value is not None and path is not None:
        raise ConfigError("Set AIGNE_HUB_ADMIN_KEY or AIGNE_HUB_ADMIN_KEY_FILE, not both")
    if path is not None:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"AIGNE_HUB_ADMIN_KEY_FILE: cannot read {path}: {exc.strerror}") from exc
        if not value:
            raise ConfigError(f"AIGNE_HUB_ADMIN_KEY_FILE: {path} is empty")
    return value.strip() if value is not None else None


def _mount_path(raw: str | None) -> str:
    path = (raw or "/").strip()
    path = "/" + path.strip("/")
    return "" if path == "/" else path


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8090
    mount_path: str = ""
    load_plugins: frozenset[str] | None = None
    max_body_bytes: int = 30 << 20
    # an upstream's answer (docs/security.md, "Hostile upstreams")
    upstream_connect_timeout: float = 10.0
    upstream_first_byte_timeout: float = 300.0
    upstream_idle_timeout: float = 120.0
    upstream_total_timeout: float = 1800.0
    upstream_max_body_bytes: int = 64 << 20
    upstream_max_event_bytes: int = 16 << 20
    usage_flush_interval: float = 0.5
    usage_batch_size: int = 500
    state_poll_interval: float = 2.0
    auth_cache_ttl: float = 60.0
    # seconds a PostgreSQL connect, query or wait for a pooled connection may take before the call gives 503
    db_timeout: float = 10.0
    auth_cache_size: int = 10_000
    # failed key lookups one client address may cause (a `limits` string), then 429 until the window moves
    auth_failure_limit: str = "30/minute"
    # failover and credential health (docs/routing.md)
    provider_cooldown: float = 90.0
    credential_check_delay: float = 5.0
    credential_check_max_delay: float = 10800.0
    log_format: str = "auto"
    log_level: str = "info"
    announce_admin_key: bool = True
    # the owner's first admin key, when the operator provides it (kept out of repr: it is a secret)
    admin_key: str | None = field(default=None, repr=False)
    #: free-form values for plugins, from ``AIGNE_HUB_EXTRA_<NAME>`` variables (``extra["<name>"]``)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("AIGNE_HUB_DATA_DIR") or _env("BLOCKLET_DATA_DIR") or "data").resolve()
        allow = _env("AIGNE_HUB_LOAD_PLUGINS")
        return cls(
            data_dir=data_dir,
            database_url=_env("AIGNE_HUB_DATABASE_URL") or f"sqlite://{data_dir / 'hub.db'}",
            secret_key=_env("AIGNE_HUB_SECRET_KEY"),
            host=_env("AIGNE_HUB_HOST", "127.0.0.1") or "127.0.0.1",
            port=_int("BLOCKLET_PORT", _int("AIGNE_HUB_PORT", 8090)),
            mount_path=_mount_path(_env("AIGNE_HUB_MOUNT_PATH")),
            load_plugins=(
                frozenset(p.strip() for p in allow.split(",") if p.strip()) if allow is not None else None
            ),
            max_body_bytes=_size(_env("AIGNE_HUB_MAX_BODY_SIZE", "30mb") or "30mb"),
            upstream_connect_timeout=_float("AIGNE_HUB_UPSTREAM_CONNECT_TIMEOUT", 10.0),
            # AIGNE_HUB_UPSTREAM_READ_TIMEOUT, the one read timeout of earlier versions, still sets both
            upstream_first_byte_timeout=_float(
                "AIGNE_HUB_UPSTREAM_FIRST_BYTE_TIMEOUT", _float("AIGNE_HUB_UPSTREAM_READ_TIMEOUT", 300.0)
            ),
            upstream_idle_timeout=_float(
                "AIGNE_HUB_UPSTREAM_IDLE_TIMEOUT", _float("AIGNE_HUB_UPSTREAM_READ_TIMEOUT", 120.0)
            ),
            upstream_total_timeout=_float("AIGNE_HUB_UPSTREAM_TOTAL_TIMEOUT", 1800.0),
            upstream_max_body_bytes=_size(_env("AIGNE_HUB_UPSTREAM_MAX_BODY_SIZE", "64mb") or "64mb"),
            upstream_max_event_bytes=_size(_env("AIGNE_HUB_UPSTREAM_MAX_EVENT_SIZE", "16mb") or "16mb"),
            usage_flush_interval=_float("AIGNE_HUB_USAGE_FLUSH_INTERVAL", 0.5),
            usage_batch_size=_int("AIGNE_HUB_USAGE_BATCH_SIZE", 500),
            state_poll_interval=_float("AIGNE_HUB_STATE_POLL_INTERVAL", 2.0),
            auth_cache_ttl=_float("AIGNE_HUB_AUTH_CACHE_TTL", 60.0),
            db_timeout=_float("AIGNE_HUB_DB_TIMEOUT", 10.0),
            auth_cache_size=_int("AIGNE_HUB_AUTH_CACHE_SIZE", 10_000),
            auth_failure_limit=_env("AIGNE_HUB_AUTH_FAILURE_LIMIT", "30/minute") or "30/minute",
            provider_cooldown=_float("AIGNE_HUB_PROVIDER_COOLDOWN", 90.0),
            credential_check_delay=_float("AIGNE_HUB_CREDENTIAL_CHECK_DELAY", 5.0),
            credential_check_max_delay=_float("AIGNE_HUB_CREDENTIAL_CHECK_MAX_DELAY", 10800.0),
            log_format=_env("AIGNE_HUB_LOG_FORMAT", "auto") or "auto",
            log_level=_env("AIGNE_HUB_LOG_LEVEL", "info") or "info",
            admin_key=_admin_key(),
            extra=_extra(),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def state_marker(self) -> Path:
        return self.data_dir / ".state-generation"


EXTRA_PREFIX = "AIGNE_HUB_EXTRA_"


def _extra() -> dict[str, str]:
    """``AIGNE_HUB_EXTRA_<NAME>=value`` variables as ``{"<name>": value}``: deployment values for plugins
    (``settings.extra``) that are not worth a settings schema."""
    return {
        k[len(EXTRA_PREFIX) :].lower(): v for k, v in os.environ.items() if k.startswith(EXTRA_PREFIX) and v
    }
