"""A hub in the test's own process and event loop, called without a socket: `hub_client`.

Faster than `HubServer` and enough for most plugin tests (routes, hooks, JSON and streamed calls); use
`HubServer` where the protocol matters (official SDKs, disconnects, keep-alive).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from hub_core import db
from hub_core.config import Settings
from hub_core.testing.pytest_plugin import make_settings
from hub_core.testing.registry import registered_plugins


class HubClient:
    """Quart's test client on a started hub, with the conveniences `HubServer` has."""

    def __init__(self, app: Any, client: Any) -> None:
        self.app = app
        self.client = client
        self.hub: Any = app.extensions["aigne_hub"]

    @property
    def admin_key(self) -> str:
        return str(self.hub.initial_admin_key)

    def activate(self) -> None:
        """Make the hub's database the current one in the calling task (before using `hub` services)."""
        db.activate(self.hub.db)

    async def request(
        self, method: str, path: str, *, key: str | None = None, json: Any = None, **kwargs: Any
    ) -> Any:
        """An HTTP request to `path` (under the mount path); `key` as a Bearer token. Returns Quart's response
        (``status_code``, ``await get_json()``, ``await get_data()``)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        url = self.hub.settings.mount_path + path
        return await self.client.open(url, method=method, json=json, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.request("POST", path, **kwargs)

    async def create_key(self, name: str = "test", role: str = "member") -> str:
        from hub_core.admin import users

        self.activate()
        user = await users.create_user(name, role)
        return (await users.create_key(user, name, role))[1]

    async def add_provider(
        self, name: str, base_url: str | None = None, credential: Any = None, **kwargs: Any
    ) -> int:
        """Configure a provider (and a credential), as an admin would, and reload the hub."""
        from hub_core.admin import providers

        self.activate()
        hub = self.hub
        row = await providers.add_provider(hub.settings, hub.host, name, base_url=base_url, **kwargs)
        if credential is not None:
            await providers.add_credential(hub.settings, hub.host, hub.keyring, row.id, credential)
        await hub.state.reload()
        return int(row.id)

    async def calls(self, **filters: Any) -> list[dict[str, Any]]:
        """Usage-log rows (after the observers and the writer are flushed), oldest first."""
        from hub_core.db import models as m

        self.activate()
        await self.hub.gateway.drain()
        await self.hub.writer.flush()
        return await m.ModelCall.filter(**filters).order_by("id").values()


@asynccontextmanager
async def hub_client(
    settings: Settings | None = None,
    *,
    plugins: Iterable[tuple[str, object]] = (),
    entry_points: Iterable[EntryPoint] | None = None,
    only: Iterable[str] | None = None,
) -> AsyncIterator[HubClient]:
    """A started hub in this process (SQLite in a temporary directory unless `settings` say otherwise), with
    the plugins of the `register_plugin` blocks around it plus `plugins`; `only` limits the installed plugins
    it loads (by entry-point name). Startup and shutdown run, hooks included."""
    from hub_core.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="aigne-hub-") as tmp:
        settings = settings or make_settings(Path(tmp) / "data")
        if only is not None:
            settings = settings.with_(load_plugins=frozenset(only))
        app = create_app(settings, entry_points=entry_points, plugins=(*registered_plugins(), *plugins))
        async with app.test_app() as test_app:
            yield HubClient(app, test_app.test_client())
