"""Storage: real schema migrations on an empty SQLite file and on PostgreSQL, idempotent, SQLite in WAL mode,
and ``aigne-hub db upgrade``."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.cli import ok, run_cli

from hub_core import db
from hub_core.testing.pytest_plugin import make_settings

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = [f"models.{p.stem}" for p in sorted((ROOT / "hub_core/db/migrations").glob("[0-9]*.py"))]


def each_once(applied: list[str]) -> list[str]:
    """The migrations applied, each once, the newest last; the two ``0005`` siblings (joined again by
    ``0006_audit_log``) may come in either order, so the list is compared sorted."""
    assert applied[-1] == MIGRATIONS[-1], applied
    return sorted(applied)


TABLES = {"users", "access_keys", "providers", "credentials", "plugin_state", "model_calls", "hub_state"}
CALL_COLUMNS = {
    "user_id", "key_id", "app_did", "provider", "model", "credential_id", "input_tokens", "output_tokens",
    "cached_tokens", "status", "error", "duration_ms", "ttfb_ms",
}  # fmt: skip


def sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def sqlite_columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


async def test_migrations_create_every_table_on_an_empty_sqlite_file_once(tmp_path):
    settings = make_settings(tmp_path / "data")
    path = settings.data_dir / "hub.db"
    assert not path.exists()

    assert each_once(await db.upgrade(settings)) == MIGRATIONS
    assert path.exists()
    assert sqlite_tables(path) >= TABLES
    assert sqlite_columns(path, "model_calls") >= CALL_COLUMNS
    assert {"key_hash", "prefix", "role", "expires_at", "revoked_at"} <= sqlite_columns(path, "access_keys")
    assert {"ciphertext", "masked", "weight", "active"} <= sqlite_columns(path, "credentials")

    assert await db.upgrade(settings) == []  # idempotent: nothing left to apply
    assert await db.upgrade(settings) == []


async def test_sqlite_runs_in_wal_mode(tmp_path):
    settings = make_settings(tmp_path / "data")
    await db.upgrade(settings)
    ctx = await db.connect(settings)
    try:
        conn = ctx.connections.get("sqlite")
        _, rows = await conn.execute_query("PRAGMA journal_mode")
        assert str(rows[0][0]).lower() == "wal"
    finally:
        await db.close(ctx)
    with sqlite3.connect(settings.data_dir / "hub.db") as conn:  # WAL is a property of the file: it stays
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_create_every_table_on_postgres_once(pg_url, tmp_path):
    settings = make_settings(tmp_path / "data").with_(database_url=pg_url)
    assert each_once(asyncio.run(db.upgrade(settings))) == MIGRATIONS

    async def columns() -> dict[str, set[str]]:
        conn = await asyncpg.connect(pg_url)
        try:
            rows = await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            )
        finally:
            await conn.close()
        out: dict[str, set[str]] = {}
        for row in rows:
            out.setdefault(row["table_name"], set()).add(row["column_name"])
        return out

    found = asyncio.run(columns())
    assert found.keys() >= TABLES
    assert found["model_calls"] >= CALL_COLUMNS
    assert asyncio.run(db.upgrade(settings)) == []
    assert not (tmp_path / "data" / "hub.db").exists()  # PostgreSQL only: no stray SQLite file


def test_hub_data_round_trips_on_postgres(hub_server_factory, hub_settings, pg_url):
    server = hub_server_factory(hub_settings.with_(database_url=pg_url))
    key = server.create_key(name="pg")

    async def stored() -> tuple[int, int, str]:
        from hub_core.db import models as m

        users = await m.User.all().count()
        keys = await m.AccessKey.all().count()
        owner = await m.User.get(role="owner")
        return users, keys, owner.name

    assert server.run(stored) == (2, 2, "owner")  # owner + its first key, and the member created above
    assert key.startswith("ahk-")


def test_db_upgrade_command_on_sqlite_and_postgres(tmp_path, pg_url):
    data = tmp_path / "data"
    first = ok(run_cli("db", "upgrade", data_dir=data))
    applied = [line.removeprefix("applied ") for line in first.stdout.splitlines()]
    assert each_once([name for name in applied if name.startswith("models.")]) == MIGRATIONS
    # and the apps of installed plugins (register_db_models): the credits plugin's own tables
    assert [name for name in applied if not name.startswith("models.")] == ["credits.0001_initial"]
    assert sqlite_tables(data / "hub.db") >= TABLES | {"credit_accounts", "credit_ledger"}
    assert ok(run_cli("db", "upgrade", data_dir=data)).stdout.strip() == "database is up to date"

    env = {"AIGNE_HUB_DATABASE_URL": pg_url}
    assert "applied models." in ok(run_cli("db", "upgrade", data_dir=tmp_path / "pg", env=env)).stdout
    assert (
        ok(run_cli("db", "upgrade", data_dir=tmp_path / "pg", env=env)).stdout.strip()
        == "database is up to date"
    )
