"""Database setup: Tortoise configuration, migrations and connection lifecycle, for the core's tables and the
apps plugins declare (``register_db_models``), all on the hub's one database connection."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tortoise.context import TortoiseContext

from hub_core.config import Settings
from hub_core.db import tortoise_overrides
from hub_core.infra.files import private_dir, private_file

MODELS_MODULE = "hub_core.db.models"
MIGRATIONS_MODULE = "hub_core.db.migrations"
CORE_APP = "models"

#: plugin apps: Tortoise app label -> (models module, migrations package) (`PluginHost.database_apps`)
PluginApps = Mapping[str, tuple[str, str]]


def tortoise_config(
    settings: Settings, apps: PluginApps | None = None, *, timeout: bool = True
) -> dict[str, Any]:
    """The ORM configuration: the core's app plus the plugins' `apps`; `timeout=False` for migrations, which
    may rightly run longer than a query."""
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    connection: Any = url
    if not settings.is_sqlite:
        connection = _postgres(url, settings.db_timeout if timeout else None)
    if settings.is_sqlite:
        path = url.split("://", 1)[1]
        connection = {
            "engine": "tortoise.backends.sqlite",
            "credentials": {"file_path": path, "journal_mode": "WAL", "journal_size_limit": 16384},
        }
    # Tortoise caches compiled SQL per connection *name*; naming it by dialect keeps SQLite and PostgreSQL
    # hubs in one process (the test suite) from sharing statements.
    name = "sqlite" if settings.is_sqlite else "postgres"
    every = {CORE_APP: (MODELS_MODULE, MIGRATIONS_MODULE), **(apps or {})}
    return {
        "connections": {name: connection},
        "apps": {
            label: {"models": [models], "default_connection": name, "migrations": migrations}
            for label, (models, migrations) in every.items()
        },
        "use_tz": True,
    }


def _postgres(url: str, timeout: float | None) -> dict[str, Any]:
    """PostgreSQL with `timeout` seconds for connecting, for each query and for waiting for a pooled
    connection (hub_core.db.postgres): a hung database is a 503 after that long, not a stalled hub."""
    from tortoise.backends.base.config_generator import expand_db_url

    from hub_core.db.postgres import ACQUIRE_TIMEOUT

    config = expand_db_url(url)
    config["engine"] = "hub_core.db.postgres"
    if timeout is None:
        return config
    credentials = config["credentials"]
    credentials.setdefault("timeout", timeout)
    credentials.setdefault("command_timeout", timeout)
    credentials.setdefault(ACQUIRE_TIMEOUT, timeout)
    return config


async def upgrade(settings: Settings, apps: PluginApps | None = None) -> list[str]:
    """Apply pending migrations of the core and of the plugins' `apps`; returns the names applied
    (``app.migration``). Safe to run on every start."""
    from tortoise.migrations.api import migrate

    if settings.is_sqlite:
        private_sqlite(settings)
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    ctx = TortoiseContext()
    with ctx:
        try:
            await migrate(config=tortoise_config(settings, apps, timeout=False), progress=progress)
        finally:
            await ctx.close_connections()
    return applied


def private_sqlite(settings: Settings) -> None:
    """The SQLite database and the files beside it created (or tightened to) 0600 in a 0700 data dir."""
    path = Path(settings.database_url.split("://", 1)[1])
    private_dir(settings.data_dir)
    private_dir(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        if (beside := path.with_name(path.name + suffix)).exists():
            private_file(beside)


async def connect(settings: Settings, apps: PluginApps | None = None) -> TortoiseContext:
    """Open this hub's own ORM context (connections and models) and make it current for this task and the
    tasks it creates. Each hub has its own, so several hubs can live in one process (tests)."""
    if settings.is_sqlite:
        private_sqlite(settings)
    ctx = TortoiseContext()
    ctx.__enter__()
    await ctx.init(config=tortoise_config(settings, apps))
    return ctx


def activate(ctx: TortoiseContext) -> None:
    """Make `ctx` current for the running task (request tasks do not inherit it from the startup task)."""
    tortoise_overrides.activate(ctx)


async def close(ctx: TortoiseContext) -> None:
    await ctx.close_connections()
