"""pytest fixtures for the hub and for plugin authors. Opt-in, so they never reach the pytest runs of other
projects installed beside the hub: ``pytest -p hub_core.testing.pytest_plugin``, or ``addopts`` in the test
project's configuration, or ``pytest_plugins`` in its root conftest.py.

- ``fake_openai``: a fake OpenAI upstream on a real socket (`hub_core.testing.fake_openai.FakeOpenAI`).
- ``hub_settings``: `Settings` for a fresh hub in ``tmp_path`` (SQLite).
- ``hub_server_factory``: start real hubs (`HubServer`) on real sockets; stopped at teardown.
- ``hub``: a running hub with the ``openai`` provider pointing at ``fake_openai``.
- ``pg_url``: a fresh PostgreSQL database (dropped afterwards); skips without a server unless
  ``AIGNE_HUB_REQUIRE_SERVICES=1`` (CI), where it fails instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub_core.config import Settings
from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.server import HubServer

PG_ADMIN_URL = os.environ.get("AIGNE_HUB_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    base = Settings(
        data_dir=data_dir,
        database_url=f"sqlite://{data_dir / 'hub.db'}",
        secret_key=None,
        usage_flush_interval=0.05,
        state_poll_interval=0.2,
        log_format="json",
        log_level="warning",
        announce_admin_key=False,
    )
    return base.with_(**overrides)


@pytest.fixture
def hub_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake_openai_thread() -> Iterator[FakeOpenAI]:
    """The fake in its own thread and loop, for sync tests."""
    with FakeOpenAI().in_thread() as fake:
        yield fake


@pytest.fixture
def hub_server_factory(tmp_path: Path) -> Iterator[Callable[..., HubServer]]:
    servers: list[HubServer] = []

    def factory(
        settings: Settings | None = None, *, plugins: Iterable[str] | None = None, **kwargs: Any
    ) -> HubServer:
        """A started hub; `plugins` limits the installed plugins it loads (by entry-point name)."""
        settings = settings or make_settings(tmp_path / f"data{len(servers)}")
        if plugins is not None:
            settings = settings.with_(load_plugins=frozenset(plugins))
        server = HubServer(settings, **kwargs)
        servers.append(server)
        return server.start()

    yield factory
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def hub(hub_server_factory: Callable[..., HubServer], fake_openai_thread: FakeOpenAI) -> HubServer:
    server = hub_server_factory()
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    return server


def _services_required() -> bool:
    return os.environ.get("AIGNE_HUB_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        pytest.fail("asyncpg is not installed")
    name = f"hub_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        if _services_required():
            pytest.fail(f"PostgreSQL is required here but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
